"""Assembles the whole Envoy bootstrap: admin on loopback, one listener, clusters."""

from __future__ import annotations

from typing import Any

from . import clusters, filters, routes
from .descriptors import Api
from .options import GatewayOptions

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
MONITORS = "type.googleapis.com/envoy.extensions.resource_monitors"
ACCESS_LOG_FORMAT = {
    "time": "%START_TIME%",
    "method": "%REQ(X-ENVOY-ORIGINAL-METHOD?:METHOD)%",  # the transcoder turns every call into a POST
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "rpc": "%REQ(:PATH)%",
    "status": "%RESPONSE_CODE%",
    "grpc_status": "%GRPC_STATUS%",
    "duration_ms": "%DURATION%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "upstream": "%UPSTREAM_HOST%",
    "flags": "%RESPONSE_FLAGS%",
}
# Replies Envoy writes itself (no route, JWT refused, rate limited, body too large, timeouts)
# get the same google.rpc.Status JSON shape as errors converted from the services.
LOCAL_REPLY_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 413: 3, 429: 8, 503: 14, 504: 4}


def _local_reply() -> dict[str, Any]:
    mappers = [
        {
            "filter": {
                "status_code_filter": {
                    "comparison": {
                        "op": "EQ",
                        "value": {"default_value": status, "runtime_key": f"local_reply_{status}"},
                    }
                }
            },
            "body_format_override": {
                "json_format": {"code": code, "message": "%LOCAL_REPLY_BODY%"},
                "content_type": "application/json",
            },
        }
        for status, code in LOCAL_REPLY_CODES.items()
    ]
    return {"mappers": mappers}


def _access_log() -> list[dict[str, Any]]:
    return [
        {
            "name": "envoy.access_loggers.stdout",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                "log_format": {"json_format": ACCESS_LOG_FORMAT},
            },
        }
    ]


def _listener(api: Api, options: GatewayOptions) -> dict[str, Any]:
    manager = {
        "@type": HCM,
        "stat_prefix": "edge",
        "codec_type": "AUTO",
        "generate_request_id": True,
        "preserve_external_request_id": True,  # a client's (or an outer proxy's) id is kept
        "always_set_request_id_in_response": True,
        "access_log": _access_log(),
        "local_reply_config": _local_reply(),
        "route_config": routes.route_config(api, options),
        "http_filters": filters.chain(api, options),
    }
    return {
        "name": "edge",
        "address": {"socket_address": {"address": options.listen_address, "port_value": options.port}},
        # Large REST bodies (up to the limit) are buffered by the transcoder, not by the connection.
        "per_connection_buffer_limit_bytes": 1024 * 1024,
        "filter_chains": [
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}]}
        ],
    }


def build(api: Api, options: GatewayOptions) -> dict[str, Any]:
    unknown = sorted(set(options.upstreams) - set(api.services))
    if unknown:
        raise ValueError(f"upstreams for services not in the descriptor set: {', '.join(unknown)}")
    cluster_list = [clusters.service_cluster(s, e, options) for s, e in sorted(options.upstreams.items())]
    if options.jwt and options.jwt.jwks_url:
        cluster_list.append(clusters.jwks_cluster(options.jwt.jwks_url, options))
    return {
        # Prometheus stats at http://127.0.0.1:<admin>/stats/prometheus; never on a public address.
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": options.admin_port}}},
        "static_resources": {"listeners": [_listener(api, options)], "clusters": cluster_list},
        # A bound on open client connections (Envoy warns at start without one).
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": f"{MONITORS}.downstream_connections.v3.DownstreamConnectionsConfig",
                        "max_active_downstream_connections": 50000,
                    },
                }
            ]
        },
    }

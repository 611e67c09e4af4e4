"""Assembles the whole Envoy bootstrap: admin on loopback, the edge listener, clusters, and optionally
a stats listener that serves the admin's `/stats/prometheus` as `/metrics` and nothing else of the admin,
and the OpenTelemetry tracer with its collector (tracing.py)."""

from __future__ import annotations

from typing import Any

from . import clusters, filters, routes, tracing
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
# Replies Envoy writes itself (no route, JWT refused, rate limited, body too large, HTTP/1.0, timeouts)
# get the same google.rpc.Status JSON shape as errors converted from the services.
LOCAL_REPLY_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 413: 3, 426: 3, 429: 8, 503: 14, 504: 4}
# grpc_stats names its stats `cluster.<cluster>.grpc.<pkg.Service>.<Method>.<stat or gRPC code>`. Envoy's
# default grpc extractors split the service at its first dot (service "devinsider", method "user"), and
# a default cannot be overridden, only left out: so the defaults that apply to this config are named
# (empty regex: Envoy's own) and the gRPC ones replaced. Prometheus then gets
# `envoy_cluster_grpc_total{envoy_cluster_name, grpc_service, grpc_method}` (also `_success`, `_failure`),
# `envoy_cluster_grpc_upstream_rq_time_bucket{...}` (ms) and `envoy_cluster_grpc{..., grpc_code="5"}`.
DEFAULT_TAGS = [
    "envoy.cluster_name",
    "envoy.listener_address",
    "envoy.http_conn_manager_prefix",
    "envoy.response_code",
    "envoy.response_code_class",
    "envoy.virtual_host",
    "envoy.virtual_cluster",
    "envoy.route",
    "envoy.worker_id",
    "envoy.local_http_ratelimit_prefix",
    "envoy.rds_route_config",
]
STATS_TAGS = [
    *({"tag_name": name} for name in DEFAULT_TAGS),
    {"tag_name": "grpc_service", "regex": r"^cluster\.[^.]+\.grpc\.((.+)\.)[^.]+\.[^.]+$"},
    {"tag_name": "grpc_method", "regex": r"^cluster\.[^.]+\.grpc\..+\.(([^.]+)\.)[^.]+$"},
    {"tag_name": "grpc_code", "regex": r"^cluster\.[^.]+\.grpc\..+\.[^.]+(\.([0-9]+))$"},
]
# The admin interface as an upstream of the stats listener (loopback; the admin speaks HTTP/1.1).
ADMIN_CLUSTER = "envoy_admin"
ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}


def _status_is(status: int) -> dict[str, Any]:
    comparison = {"op": "EQ", "value": {"default_value": status, "runtime_key": f"local_reply_{status}"}}
    return {"status_code_filter": {"comparison": comparison}}


def _status_json(code: int, message: str) -> dict[str, Any]:
    return {"json_format": {"code": code, "message": message}, "content_type": "application/json"}


def _cors_refusal(options: GatewayOptions) -> dict[str, Any]:
    """A preflight from an origin off the allow-list: the CORS filter lets it through, and it ends as a
    404 (no OPTIONS route). Say why instead (403), with the allowed origins and how to add one."""
    allowed = ", ".join(options.cors_origins) or "none"
    preflight = [
        _status_is(404),
        {"header_filter": {"header": {"name": ":method", "string_match": {"exact": "OPTIONS"}}}},
        {"header_filter": {"header": {"name": "access-control-request-method", "present_match": True}}},
    ]
    message = (
        "CORS preflight refused: the origin %REQ(ORIGIN)% is not allowed by this edge "
        f"(allowed: {allowed}; operators add one with devinsider-gateway-config --cors-origin)"
    )
    return {
        "filter": {"and_filter": {"filters": preflight}},
        "status_code": 403,
        "body_format_override": _status_json(7, message),
    }


def _local_reply(options: GatewayOptions) -> dict[str, Any]:
    too_long = (
        f"the request line and headers are over the edge's limit of {options.max_request_headers_kb} KB: "
        "send long values in a request body"
    )
    specific = [
        _cors_refusal(options),
        *({"filter": _status_is(status), "body_format_override": _status_json(3, too_long)} for status in (414, 431)),
    ]
    generic = [
        {"filter": _status_is(status), "body_format_override": _status_json(code, "%LOCAL_REPLY_BODY%")}
        for status, code in LOCAL_REPLY_CODES.items()
    ]
    return {"mappers": [*specific, *generic]}


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
        # The client address (rate limits per source, X-Forwarded-For) is the TCP peer, or the address the
        # trusted proxies in front of the edge saw; never what a client writes into X-Forwarded-For.
        "use_remote_address": True,
        "xff_num_trusted_hops": options.trusted_proxy_hops,
        # No internal_address_config: Envoy 1.40 then deems no client internal, so a client's x-envoy-*
        # headers (timeouts, retries) are ignored, loopback and private addresses included (with an
        # empty `cidr_ranges` loopback clients were internal again; tests/edge pins this).
        "max_request_headers_kb": options.max_request_headers_kb,
        "preserve_external_request_id": True,  # a client's (or an outer proxy's) id is kept
        "always_set_request_id_in_response": True,
        "access_log": _access_log(),
        "local_reply_config": _local_reply(options),
        "route_config": routes.route_config(api, options),
        "http_filters": filters.chain(api, options),
    }
    if options.tracing is not None:
        manager |= tracing.connection_manager(options.tracing)
    return {
        "name": "edge",
        "address": {"socket_address": {"address": options.listen_address, "port_value": options.port}},
        # Large REST bodies (up to the limit) are buffered by the transcoder, not by the connection.
        "per_connection_buffer_limit_bytes": 1024 * 1024,
        "filter_chains": [
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}]}
        ],
    }


def _stats_listener(options: GatewayOptions) -> dict[str, Any]:
    """GET /metrics -> the admin's /stats/prometheus (query kept: `?usedonly`, `?filter=`); anything else
    (every other admin path, other methods) is a 404 from this listener itself, never the admin's."""
    metrics_route = {
        "match": {"path": "/metrics", "headers": [{"name": ":method", "string_match": {"exact": "GET"}}]},
        "route": {"cluster": ADMIN_CLUSTER, "prefix_rewrite": "/stats/prometheus", "timeout": "10s"},
    }
    not_found = {"match": {"prefix": "/"}, "direct_response": {"status": 404, "body": {"inline_string": "not found\n"}}}
    manager = {
        "@type": HCM,
        "stat_prefix": "stats",
        "codec_type": "AUTO",
        # `/metrics/../quitquitquit` and `//metrics` are normalised before matching (and then never match).
        "normalize_path": True,
        "merge_slashes": True,
        "path_with_escaped_slashes_action": "REJECT_REQUEST",
        "route_config": {
            "name": "stats",
            "virtual_hosts": [{"name": "stats", "domains": ["*"], "routes": [metrics_route, not_found]}],
        },
        "http_filters": [ROUTER],
    }
    return {
        "name": "stats",
        "address": {"socket_address": {"address": options.metrics_address, "port_value": options.metrics_port}},
        "filter_chains": [
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}]}
        ],
    }


def _admin_cluster(options: GatewayOptions) -> dict[str, Any]:
    endpoint = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": options.admin_port}}}
    return {
        "name": ADMIN_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": ADMIN_CLUSTER, "endpoints": [{"lb_endpoints": [{"endpoint": endpoint}]}]},
    }


def build(api: Api, options: GatewayOptions) -> dict[str, Any]:
    unknown = sorted(set(options.upstreams) - set(api.services))
    if unknown:
        raise ValueError(f"upstreams for services not in the descriptor set: {', '.join(unknown)}")
    cluster_list = [clusters.service_cluster(s, e, options) for s, e in sorted(options.upstreams.items())]
    if options.jwt and options.jwt.jwks_url:
        cluster_list.append(clusters.jwks_cluster(options.jwt, options))
    if options.tracing is not None:
        cluster_list.append(tracing.collector_cluster(options.tracing, options))
    listeners = [_listener(api, options)]
    if options.metrics_port:
        if options.metrics_port in (options.admin_port, options.port):
            raise ValueError(f"the metrics port {options.metrics_port} is taken by the admin or the edge listener")
        listeners.append(_stats_listener(options))
        cluster_list.append(_admin_cluster(options))
    return {
        # Prometheus stats at http://127.0.0.1:<admin>/stats/prometheus; never on a public address
        # (the stats listener, when configured, forwards GET /metrics there and nothing else).
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": options.admin_port}}},
        "static_resources": {"listeners": listeners, "clusters": cluster_list},
        "stats_config": {"use_all_default_tags": False, "stats_tags": STATS_TAGS},
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

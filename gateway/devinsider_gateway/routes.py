"""The route table: one route per transcoded gRPC method, the docs, webhook rate limits, a 404 catch-all.

Requests are routed twice: first on the REST path (only the docs and the webhook prefixes match
something then), and again after the transcoder rewrote the path to `/pkg.Service/Method`. RPCs
without an HTTP binding get no route, so service-only RPCs are not reachable through the edge.
"""

from __future__ import annotations

import re
from typing import Any

from .clusters import cluster_name
from .descriptors import Api
from .options import GatewayOptions, seconds

FILTERS = "type.googleapis.com/envoy"
DOC_FILES = {  # served path -> (file in docs_dir, content type)
    "/openapi.json": ("openapi.json", "application/json"),
    "/docs": ("docs.html", "text/html; charset=utf-8"),
    "/docs/swagger-ui-bundle.js": ("swagger-ui-bundle.js", "application/javascript"),
    "/docs/swagger-ui.css": ("swagger-ui.css", "text/css"),
}
PREVIOUS_HOSTS = {
    "name": "envoy.retry_host_predicates.previous_hosts",
    "typed_config": {"@type": f"{FILTERS}.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"},
}
# Routes matched before transcoding must be real route entries (the CORS filter ignores
# direct_response routes), yet lead nowhere: they name a cluster through a header that
# `internal_only_headers` strips from every client request, so Envoy answers 404.
NO_CLUSTER_HEADER = "x-devinsider-cluster"
NOWHERE = {"cluster_header": NO_CLUSTER_HEADER, "cluster_not_found_response_code": "NOT_FOUND"}
TRANSCODER_OFF = {
    "envoy.filters.http.grpc_json_transcoder": {
        "@type": f"{FILTERS}.config.route.v3.FilterConfig",
        "disabled": True,
    }
}


def _method_routes(api: Api, options: GatewayOptions) -> list[dict[str, Any]]:
    routes = []
    for service, methods in sorted(api.services.items()):
        if service not in options.upstreams:
            continue
        for method in methods:
            if not method.bindings:
                continue
            # UNAVAILABLE is retried only where a repeat cannot change anything twice; a refused
            # connection never reached the service, so that retry is safe for every method.
            retry_on = (
                "unavailable,connect-failure,refused-stream,reset" if method.safe else "connect-failure,refused-stream"
            )
            route = {
                "cluster": cluster_name(service),
                "timeout": seconds(options.timeout_for(f"{service}.{method.name}")),
                "retry_policy": {
                    "retry_on": retry_on,
                    "num_retries": 2,
                    "retry_host_predicate": [PREVIOUS_HOSTS],
                    "host_selection_retry_max_attempts": 3,
                },
            }
            routes.append({"match": {"path": method.grpc_path}, "route": route})
    return routes


def _doc_routes(options: GatewayOptions) -> list[dict[str, Any]]:
    if options.docs_dir is None:
        return []
    # A browser pointed at the edge lands on the docs (302: the root may mean something else one day).
    redirect = {"path_redirect": "/docs", "response_code": "FOUND"}
    files = [
        {
            "match": {"path": path},
            "direct_response": {"status": 200, "body": {"filename": str(options.docs_dir / name)}},
            "response_headers_to_add": [
                {"header": {"key": "content-type", "value": ctype}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
            ],
            "typed_per_filter_config": TRANSCODER_OFF,
        }
        for path, (name, ctype) in DOC_FILES.items()
    ]
    return [{"match": {"path": "/"}, "redirect": redirect, "typed_per_filter_config": TRANSCODER_OFF}, *files]


def _rate_limited(options: GatewayOptions) -> list[dict[str, Any]]:
    """One route per prefix (by default one per webhook), each with buckets of its own: one per client
    address (Envoy's dynamic descriptors: an entry without a value gets a bucket per value seen, the least
    recently seen dropped beyond `rate_limit_sources`). A flood from one address empties only its own
    bucket on that webhook: the payment provider's deliveries from its address, and the other webhooks,
    are not touched. The address is the TCP peer (or X-Forwarded-For past `trusted_proxy_hops` proxies,
    see envoy_config.py), never what a client claims."""
    per_second = options.rate_limit_per_second
    bucket = {"max_tokens": per_second, "tokens_per_fill": per_second, "fill_interval": "1s"}
    enabled = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}, "runtime_key": "webhooks_enabled"}
    routes = []
    for prefix in options.rate_limit_prefixes:
        limit = {
            "@type": f"{FILTERS}.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
            "stat_prefix": "rate_limit_" + re.sub(r"[^A-Za-z0-9]+", "_", prefix).strip("_"),
            # Required on a route; taken only by a request without an address (none: every request has a peer).
            "token_bucket": bucket,
            "rate_limits": [{"actions": [{"remote_address": {}}]}],  # the descriptor: ("remote_address", address)
            "descriptors": [{"entries": [{"key": "remote_address", "value": ""}], "token_bucket": bucket}],
            "max_dynamic_descriptors": options.rate_limit_sources,
            "always_consume_default_token_bucket": False,
            "filter_enabled": enabled,
            "filter_enforced": enabled | {"runtime_key": "webhooks_enforced"},
        }
        # Matched only before transcoding: the transcoder then re-routes to the method's route.
        routes.append(
            {
                "match": {"prefix": prefix},
                "route": NOWHERE,
                "typed_per_filter_config": {"envoy.filters.http.local_ratelimit": limit},
            }
        )
    return routes


def cors_policy(options: GatewayOptions) -> dict[str, Any]:
    return {
        "@type": f"{FILTERS}.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": [{"exact": origin} for origin in options.cors_origins],
        "allow_methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "allow_headers": "authorization, content-type, x-request-id",
        "expose_headers": "x-request-id, grpc-status, grpc-message",
        "max_age": "600",
    }


def route_config(api: Api, options: GatewayOptions) -> dict[str, Any]:
    routes = [*_doc_routes(options), *_method_routes(api, options), *_rate_limited(options)]
    routes.append({"match": {"prefix": "/"}, "route": NOWHERE})
    virtual_host = {
        "name": "edge",
        "domains": ["*"],
        "routes": routes,
        "typed_per_filter_config": {"envoy.filters.http.cors": cors_policy(options)},
    }
    return {
        "name": "edge",
        "virtual_hosts": [virtual_host],
        "internal_only_headers": [NO_CLUSTER_HEADER],
        # direct_response bodies are capped at 4 KiB by default; the docs bundle is ~1.5 MB.
        "max_direct_response_body_size_bytes": 16 * 1024 * 1024,
    }

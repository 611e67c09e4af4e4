"""The HTTP filter chain, in order: CORS, local rate limit, buffer, transcoder, gRPC stats, JWT, router.

The buffer filter enforces the body limit on every request: the transcoder's own
`max_request_body_size` only holds for the bodies it buffers (HttpBody), while JSON is transcoded as
it streams, so an oversized JSON body would otherwise reach a service and come back as
RESOURCE_EXHAUSTED (429, which looks retryable) instead of 413.

The JWT filter runs after the transcoder on purpose: by then the path is the gRPC method path
(`/pkg.Service/Method`), so the rules are exact method paths read from the access option instead
of regexes re-deriving every REST template. The gRPC stats filter sits there too: it sees every
transcoded call as gRPC (its response before the transcoder turns it back into JSON), so it counts
the calls that reached a service by cluster, method and gRPC status, and times them (refusals of the
JWT filter are in the listener's `http.edge.downstream_rq_4xx`).
"""

from __future__ import annotations

from typing import Any

from .descriptors import Api
from .options import GatewayOptions

T = "type.googleapis.com/envoy.extensions.filters.http"


def transcoder(api: Api, options: GatewayOptions) -> dict[str, Any]:
    return {
        "name": "envoy.filters.http.grpc_json_transcoder",
        "typed_config": {
            "@type": f"{T}.grpc_json_transcoder.v3.GrpcJsonTranscoder",
            "proto_descriptor": str(options.descriptor_set),
            "services": sorted(api.services),
            # Errors become google.rpc.Status JSON (with details); needs google/rpc/*.proto in the set.
            "convert_grpc_status": True,
            "request_validation_options": {
                "reject_unknown_method": True,  # 404 instead of passing a REST call upstream as-is
                "reject_unknown_query_parameters": True,  # 400: a typo never silently does nothing
                "reject_binding_body_field_collisions": True,
            },
            # Proto3 JSON as the protobuf libraries print it: lowerCamelCase names, enums by name,
            # int64 as strings, fields at their default value omitted; compact output.
            "print_options": {
                "add_whitespace": False,
                "always_print_primitive_fields": False,
                "always_print_enums_as_ints": False,
                "preserve_proto_field_names": False,
            },
            "max_request_body_size": options.body_limit_bytes,  # 413 beyond
            "max_response_body_size": options.body_limit_bytes,
        },
    }


def body_limit(options: GatewayOptions) -> dict[str, Any]:
    return {
        "name": "envoy.filters.http.buffer",
        "typed_config": {"@type": f"{T}.buffer.v3.Buffer", "max_request_bytes": options.body_limit_bytes},
    }


def cors() -> dict[str, Any]:
    # The policy itself (origins) sits on the virtual host; preflights are answered here.
    return {"name": "envoy.filters.http.cors", "typed_config": {"@type": f"{T}.cors.v3.Cors"}}


def local_rate_limit() -> dict[str, Any]:
    # Without a bucket here the filter is off; webhook routes switch it on (routes.py).
    return {
        "name": "envoy.filters.http.local_ratelimit",
        "typed_config": {"@type": f"{T}.local_ratelimit.v3.LocalRateLimit", "stat_prefix": "webhooks"},
    }


def jwt_authn(api: Api, options: GatewayOptions) -> dict[str, Any] | None:
    if options.jwt is None:
        return None
    provider: dict[str, Any] = {
        "issuer": options.jwt.issuer,
        "forward": True,  # the services verify the token again (and need it)
        "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}],
    }
    # Envoy verifies each distinct token's signature once, then reuses the result until the token's exp.
    provider["jwt_cache_config"] = {"jwt_cache_size": 1000}
    if options.jwt.jwks_url:
        provider["remote_jwks"] = {
            "http_uri": {"uri": options.jwt.jwks_url, "cluster": "jwks", "timeout": "3s"},
            "cache_duration": "300s",
            "async_fetch": {"fast_listener": False},
        }
    else:
        provider["local_jwks"] = {"filename": str(options.jwt.jwks_file)}
    required = {"provider_name": "idp"}
    optional = {"requires_any": {"requirements": [required, {"allow_missing": {}}]}}
    rules: list[dict[str, Any]] = [
        {"match": {"path": m.grpc_path}, "requires": optional}
        for methods in api.services.values()
        for m in methods
        if m.public
    ]
    # Everything else routed to a service needs a valid token; docs and unknown paths need none.
    rules += [{"match": {"prefix": f"/{service}/"}, "requires": required} for service in sorted(api.services)]
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": f"{T}.jwt_authn.v3.JwtAuthentication",
            "providers": {"idp": provider},
            "rules": rules,
        },
    }


def grpc_stats(api: Api) -> dict[str, Any]:
    """`cluster.<service cluster>.grpc.<pkg.Service>.<Method>.{total,success,failure,<code>}` counters and
    the `upstream_rq_time` histogram per method (tagged as Prometheus labels by envoy_config.STATS_TAGS).

    Only the methods the edge routes (those with an HTTP binding) are listed: a client sending gRPC
    paths of its own choosing cannot create new stats."""
    allow = [
        {"name": service, "method_names": sorted(m.name for m in methods if m.bindings)}
        for service, methods in sorted(api.services.items())
    ]
    return {
        "name": "envoy.filters.http.grpc_stats",
        "typed_config": {
            "@type": f"{T}.grpc_stats.v3.FilterConfig",
            "individual_method_stats_allowlist": {"services": [a for a in allow if a["method_names"]]},
            "enable_upstream_stats": True,
            "emit_filter_state": False,
        },
    }


def chain(api: Api, options: GatewayOptions) -> list[dict[str, Any]]:
    router = {"name": "envoy.filters.http.router", "typed_config": {"@type": f"{T}.router.v3.Router"}}
    jwt = jwt_authn(api, options)
    return [
        cors(),
        local_rate_limit(),
        body_limit(options),
        transcoder(api, options),
        grpc_stats(api),
        *([jwt] if jwt else []),
        router,
    ]

"""Upstream clusters: one per gRPC service (HTTP/2, gRPC health checks, round robin), plus the JWKS host."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .options import Endpoint, GatewayOptions, JwtOptions, seconds

PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def http2(options: GatewayOptions) -> dict[str, Any]:
    """HTTP/2 to the services. By default Envoy multiplexes every call to a replica over one connection per
    worker; `upstream_max_streams` caps the streams of a connection so that concurrent calls spread over
    several connections (a Python gRPC server reads each connection on one thread)."""
    settings: dict[str, Any] = {}
    if options.upstream_max_streams:
        settings["max_concurrent_streams"] = options.upstream_max_streams
    return {
        PROTOCOL_OPTIONS: {
            "@type": f"type.googleapis.com/{PROTOCOL_OPTIONS}",
            "explicit_http_config": {"http2_protocol_options": settings},
        }
    }


def cluster_name(service: str) -> str:
    return service.replace(".", "_")


def _endpoints(name: str, endpoints: list[Endpoint]) -> dict[str, Any]:
    hosts = [
        {"endpoint": {"address": {"socket_address": {"address": e.host, "port_value": e.port}}}} for e in endpoints
    ]
    return {"cluster_name": name, "endpoints": [{"lb_endpoints": hosts}]}


# Consecutive failed health checks before a replica is taken out of rotation.
UNHEALTHY_CHECKS = 2


def service_cluster(service: str, endpoints: list[Endpoint], options: GatewayOptions) -> dict[str, Any]:
    name = cluster_name(service)
    interval = seconds(options.health_check_interval_seconds)
    return {
        "name": name,
        # Host names (compose services) are re-resolved: each replica behind the DNS name is an endpoint.
        "type": "STATIC" if all(e.is_ip for e in endpoints) else "STRICT_DNS",
        "connect_timeout": seconds(options.connect_timeout_seconds),
        "lb_policy": "ROUND_ROBIN",
        "typed_extension_protocol_options": http2(options),
        "load_assignment": _endpoints(name, endpoints),
        # Out after two failed checks in a row: one slow answer (a busy replica, a GC pause) must not
        # take a lone replica out, since with panic off that would 503 every call until the next check.
        # A stopping service keeps serving for longer than two intervals (SHUTDOWN_DELAY_SECONDS).
        "health_checks": [
            {
                "timeout": seconds(max(1.0, options.health_check_interval_seconds)),
                "interval": interval,
                "no_traffic_interval": interval,
                "unhealthy_threshold": UNHEALTHY_CHECKS,
                "healthy_threshold": 1,
                "grpc_health_check": {"service_name": service},
            }
        ],
        # A replica that answers 5xx/resets five times in a row is ejected between health checks.
        "outlier_detection": {"consecutive_5xx": 5, "base_ejection_time": "10s"},
        "common_lb_config": {"healthy_panic_threshold": {"value": 0}},
        # Retries may use a fifth of the requests in flight (at least 16 at once). Envoy's default
        # cap of 3 concurrent retries per cluster turned a killed replica under load into 503s
        # (`UO`, retry overflow) for safe calls that had a healthy replica to go to.
        "circuit_breakers": {
            "thresholds": [
                {
                    "priority": "DEFAULT",
                    "retry_budget": {"budget_percent": {"value": 20.0}, "min_retry_concurrency": 16},
                }
            ]
        },
    }


def jwks_cluster(jwt: JwtOptions, options: GatewayOptions) -> dict[str, Any]:
    parts = urlsplit(jwt.jwks_url)
    tls = parts.scheme == "https"
    host = parts.hostname or "localhost"
    cluster: dict[str, Any] = {
        "name": "jwks",
        "type": "STRICT_DNS",
        "connect_timeout": seconds(options.connect_timeout_seconds),
        "load_assignment": _endpoints("jwks", [Endpoint(host, parts.port or (443 if tls else 80))]),
    }
    if tls:
        cluster["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni": host,
                "common_tls_context": {"validation_context": verified_host(host, jwt.jwks_ca_file)},
            },
        }
    return cluster


def verified_host(host: str, ca_file: Path) -> dict[str, Any]:
    """An upstream's certificate must chain to a CA of `ca_file` and name `host`: without a validation
    context Envoy accepts any certificate, and whoever answers for the JWKS host would choose the keys
    the edge trusts."""
    try:
        ipaddress.ip_address(host)
        san_type = "IP_ADDRESS"
    except ValueError:
        san_type = "DNS"
    return {
        "trusted_ca": {"filename": str(ca_file)},
        "match_typed_subject_alt_names": [{"san_type": san_type, "matcher": {"exact": host}}],
    }

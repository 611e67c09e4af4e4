"""Everything the generated Envoy config can be tuned with (the command line fills it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MEGABYTE = 1024 * 1024
# Debian's (and the Envoy image's) bundle of public CAs: what a remote JWKS is verified against by default.
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Every HTTP binding under this prefix is rate-limited on its own by default (cli.py).
WEBHOOK_PREFIX = "/v1/webhooks/"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def is_ip(self) -> bool:
        return self.host.replace(".", "").isdigit() or ":" in self.host


@dataclass(frozen=True)
class JwtOptions:
    issuer: str
    jwks_file: Path | None = None  # local JWKS (the dev issuer's jwks.json)
    jwks_url: str = ""  # remote JWKS (Keycloak's .../protocol/openid-connect/certs)
    jwks_ca_file: Path = SYSTEM_CA_BUNDLE  # CAs trusted for an https:// JWKS URL (PEM)


@dataclass(frozen=True)
class TracingOptions:
    """Envoy's OpenTelemetry tracer (tracing.py): where spans go and how many requests are traced."""

    collector: Endpoint  # an OTLP/gRPC collector (port 4317 by convention)
    tls: bool = False
    service_name: str = "edge"  # the spans' `service.name`
    sampling_percent: float = 100.0  # of the requests that arrive without a trace decision
    export_timeout_seconds: float = 1.0


@dataclass(frozen=True)
class GatewayOptions:
    descriptor_set: Path  # as Envoy will read it (absolute)
    upstreams: dict[str, list[Endpoint]]  # full service name -> replicas
    port: int = 8080
    listen_address: str = "0.0.0.0"  # noqa: S104 - the edge listens for clients
    admin_port: int = 9901  # always bound to 127.0.0.1
    # A separate listener serving only GET /metrics (the admin's /stats/prometheus); 0: none.
    metrics_port: int = 0
    metrics_address: str = "0.0.0.0"  # noqa: S104 - scraped from outside (compose, Kubernetes)
    cors_origins: tuple[str, ...] = ()
    body_limit_bytes: int = 16 * MEGABYTE  # = the services' gRPC message cap (grpc.clients.MAX_MESSAGE_BYTES)
    route_timeout_seconds: float = 15.0
    method_timeouts: dict[str, float] = field(default_factory=dict)  # full method name -> seconds
    connect_timeout_seconds: float = 2.0
    health_check_interval_seconds: float = 2.0
    # HTTP/2 streams per upstream connection before Envoy opens another (0: no cap, one connection per Envoy
    # worker). A service with WORKERS > 1 shares its port between processes (SO_REUSEPORT) by connection: over a
    # single connection every call would reach one process. `make bench` measured 0.50x of direct gRPC through
    # Envoy with one connection to 2 workers, 0.81x with 4 streams a connection.
    upstream_max_streams: int = 4
    jwt: JwtOptions | None = None
    # Each prefix is its own route with its own buckets: one per client address, refilled at this rate.
    rate_limit_prefixes: tuple[str, ...] = ()
    rate_limit_per_second: int = 50
    rate_limit_sources: int = 10_000  # per prefix: client addresses with a bucket (least recently seen dropped)
    # Proxies in front of the edge that append X-Forwarded-For (0: the TCP peer is the client).
    trusted_proxy_hops: int = 0
    # The request line and headers together; beyond it, 431. The services accept far more metadata
    # (devinsider_common.grpc.server.MAX_METADATA_BYTES), so their own limit is never reached through the edge.
    max_request_headers_kb: int = 16
    docs_dir: Path | None = None  # where openapi.json and the docs assets lie (as Envoy reads them)
    tracing: TracingOptions | None = None  # None: no tracer (a client's `traceparent` still passes through)

    def timeout_for(self, full_method: str) -> float:
        return self.method_timeouts.get(full_method, self.route_timeout_seconds)


def seconds(value: float) -> str:
    """A protobuf Duration in its JSON form."""
    return f"{value:.3f}s"

"""`devinsider-gateway-config`: descriptor set + upstream map -> envoy.yaml, openapi.json and /docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from . import descriptors, docs, envoy_config, openapi
from .options import MEGABYTE, SYSTEM_CA_BUNDLE, WEBHOOK_PREFIX, Endpoint, GatewayOptions, JwtOptions, TracingOptions


def _upstream(value: str) -> tuple[str, list[Endpoint]]:
    service, _, targets = value.partition("=")
    endpoints = []
    for target in filter(None, targets.split(",")):
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit():
            raise argparse.ArgumentTypeError(f"expected PACKAGE.SERVICE=HOST:PORT[,HOST:PORT...], got {value!r}")
        endpoints.append(Endpoint(host.strip("[]"), int(port)))
    if not service or not endpoints:
        raise argparse.ArgumentTypeError(f"expected PACKAGE.SERVICE=HOST:PORT[,HOST:PORT...], got {value!r}")
    return service, endpoints


def _method_timeout(value: str) -> tuple[str, float]:
    method, _, timeout = value.partition("=")
    return method, float(timeout)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="devinsider-gateway-config", description=__doc__)
    p.add_argument("--descriptor-set", type=Path, required=True, help="FileDescriptorSet with imports")
    p.add_argument("--upstream", type=_upstream, action="append", required=True, metavar="PKG.SERVICE=HOST:PORT,...")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--listen-address", default="0.0.0.0")  # noqa: S104 - the edge listens for clients
    p.add_argument("--admin-port", type=int, default=9901, help="admin and /stats/prometheus, on 127.0.0.1")
    p.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        help="a stats listener serving only GET /metrics (Prometheus, from the admin); 0: none",
    )
    p.add_argument("--metrics-address", help="the stats listener's address (default: --listen-address)")
    p.add_argument("--out", type=Path, required=True, help="the Envoy config to write")
    p.add_argument("--docs-dir", type=Path, help="where openapi.json and the docs assets go (default: beside --out)")
    p.add_argument("--swagger-ui", type=Path, help="swagger-ui-dist folder (default: node_modules above here)")
    p.add_argument("--no-docs", action="store_true", help="serve neither /openapi.json nor /docs")
    p.add_argument("--cors-origin", action="append", default=[], help="an allowed browser origin (repeatable)")
    p.add_argument("--body-limit-mb", type=int, default=16)
    p.add_argument("--timeout", type=float, default=15.0, help="per-route timeout in seconds")
    p.add_argument(
        "--method-timeout", type=_method_timeout, action="append", default=[], metavar="PKG.SERVICE.METHOD=S"
    )
    p.add_argument("--health-check-interval", type=float, default=2.0)
    p.add_argument(
        "--upstream-max-streams",
        type=int,
        default=GatewayOptions.upstream_max_streams,
        help="HTTP/2 streams per connection to a service before Envoy opens another, so that the calls spread "
        "over a service's worker processes (default %(default)s; 0: no cap, one connection)",
    )
    p.add_argument("--jwt-issuer", default="", help="checked at the edge too; empty: no JWT filter")
    p.add_argument("--jwks-file", type=Path, help="local JWKS (dev issuer's jwks.json)")
    p.add_argument("--jwks-url", default="", help="remote JWKS (Keycloak certs endpoint)")
    p.add_argument(
        "--jwks-ca-file",
        type=Path,
        default=SYSTEM_CA_BUNDLE,
        help="PEM bundle of the CAs an https:// --jwks-url's certificate must chain to (its host name is checked "
        "too); default: the system's",
    )
    p.add_argument(
        "--rate-limit-prefix",
        action="append",
        help=f"REST path prefix rate-limited on its own (repeatable; default: each binding under {WEBHOOK_PREFIX})",
    )
    p.add_argument("--rate-limit-per-second", type=int, default=50, help="per prefix and client address")
    p.add_argument("--rate-limit-sources", type=int, default=10_000, help="client addresses with a bucket, per prefix")
    p.add_argument(
        "--trusted-proxy-hops",
        type=int,
        default=0,
        help="proxies in front of the edge that append X-Forwarded-For (0: the TCP peer is the client)",
    )
    p.add_argument("--max-request-headers-kb", type=int, default=16, help="request line and headers; 431 beyond")
    p.add_argument(
        "--otlp-endpoint",
        default="",
        metavar="[http[s]://]HOST:PORT",
        help="an OTLP/gRPC collector: Envoy's OpenTelemetry tracer sends it the edge's spans and passes "
        "`traceparent` to the services; empty (default): no tracer",
    )
    p.add_argument("--trace-service-name", default="edge", help="the edge spans' service.name")
    p.add_argument(
        "--trace-sampling",
        type=float,
        default=100.0,
        metavar="PERCENT",
        help="share of requests without a trace decision that are traced (a client's sampled traceparent is)",
    )
    return p


def _tracing(endpoint: str, service_name: str, sampling: float) -> TracingOptions | None:
    if not endpoint:
        return None
    scheme, _, address = endpoint.rpartition("://")
    host, _, port = address.rstrip("/").rpartition(":")
    if scheme not in ("", "http", "https") or not host or not port.isdigit():
        sys.exit(f"--otlp-endpoint: expected [http[s]://]HOST:PORT, got {endpoint!r}")
    if not 0.0 <= sampling <= 100.0:
        sys.exit(f"--trace-sampling: a percentage from 0 to 100, got {sampling}")
    return TracingOptions(Endpoint(host.strip("[]"), int(port)), scheme == "https", service_name, sampling)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    upstreams = dict(args.upstream)
    api = descriptors.load(args.descriptor_set)
    missing = sorted(set(upstreams) - set(api.services))
    if missing:
        sys.exit(f"not in the descriptor set: {', '.join(missing)}")
    api = api.only(set(upstreams))
    if args.metrics_port and args.metrics_port in (args.admin_port, args.port):
        sys.exit(f"--metrics-port {args.metrics_port} is taken by --admin-port or --port")
    if args.jwt_issuer and not (args.jwks_file or args.jwks_url):
        sys.exit("--jwt-issuer needs --jwks-file or --jwks-url")
    jwt = (
        JwtOptions(
            args.jwt_issuer, args.jwks_file and args.jwks_file.resolve(), args.jwks_url, args.jwks_ca_file.absolute()
        )
        if args.jwt_issuer
        else None
    )
    docs_dir = None
    if not args.no_docs:
        swagger_ui = args.swagger_ui or docs.find_swagger_ui(Path.cwd()) or docs.find_swagger_ui(Path(__file__).parent)
        if swagger_ui is None:
            sys.exit("swagger-ui-dist not found: run `npm ci`, pass --swagger-ui DIR, or --no-docs")
        docs_dir = (args.docs_dir or args.out.parent / f"{args.out.stem}-docs").resolve()
        docs.write(docs_dir, openapi.document(api), swagger_ui)
    options = GatewayOptions(
        descriptor_set=args.descriptor_set.resolve(),
        upstreams=upstreams,
        port=args.port,
        listen_address=args.listen_address,
        admin_port=args.admin_port,
        metrics_port=args.metrics_port,
        metrics_address=args.metrics_address or args.listen_address,
        cors_origins=tuple(args.cors_origin),
        body_limit_bytes=args.body_limit_mb * MEGABYTE,
        route_timeout_seconds=args.timeout,
        method_timeouts=dict(args.method_timeout),
        health_check_interval_seconds=args.health_check_interval,
        upstream_max_streams=args.upstream_max_streams,
        jwt=jwt,
        rate_limit_prefixes=tuple(args.rate_limit_prefix or api.paths_under(WEBHOOK_PREFIX)),
        rate_limit_per_second=args.rate_limit_per_second,
        rate_limit_sources=args.rate_limit_sources,
        trusted_proxy_hops=args.trusted_proxy_hops,
        max_request_headers_kb=args.max_request_headers_kb,
        docs_dir=docs_dir,
        tracing=_tracing(args.otlp_endpoint, args.trace_service_name, args.trace_sampling),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    config = envoy_config.build(api, options)
    args.out.write_text(yaml.safe_dump(config, sort_keys=False, width=120), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

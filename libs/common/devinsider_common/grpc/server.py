"""gRPC server bootstrap: interceptors, health, reflection, metrics and /healthz, graceful shutdown on SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine

from devinsider_common import tracing
from devinsider_common.auth.policy import policies_for_service
from devinsider_common.auth.verifier import AccessGuard, TokenVerifier
from devinsider_common.grpc.clients import MAX_MESSAGE_BYTES
from devinsider_common.grpc.health import HealthReporter, Probe
from devinsider_common.grpc.interceptors import ServiceInterceptor
from devinsider_common.metrics import OUTBOX, MetricsServer
from devinsider_common.settings import ServiceSettings

log = structlog.get_logger("devinsider.server")

# Request metadata a service accepts, as grpcio's soft and hard limit both: its defaults (8 and 16 KB)
# refuse requests between the two at random with RESOURCE_EXHAUSTED, naming internal headers. Through
# the edge the metadata are the client's headers, capped by Envoy (`--max-request-headers-kb`, 16 KB,
# the URL included), plus Envoy's copy of the URL (`x-envoy-original-path`) and a few headers of its
# own: under twice the edge's cap, so this limit is never what refuses a request that passed the edge.
MAX_METADATA_BYTES = 64 * 1024


@dataclass(frozen=True)
class ServiceRegistration:
    """One gRPC service to serve: its full proto name, the generated `add_*_to_server`, the servicer."""

    full_name: str
    add_to_server: Callable[[Any, grpc.Server], None]
    servicer: Any


@dataclass
class RunningServer:
    """A started server with its health reporter; `stop()` drains in-flight calls."""

    server: grpc.Server
    port: int
    health: health.HealthServicer
    reporter: HealthReporter
    grace_seconds: float
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    # On SIGTERM: how long to keep serving while reporting NOT_SERVING (see `serve_until_signal`).
    shutdown_delay_seconds: float = 0.0
    # `/metrics` and `/healthz` (METRICS_PORT), None when disabled.
    metrics: MetricsServer | None = None
    _forget_outbox: Callable[[], None] = lambda: None

    @property
    def metrics_port(self) -> int | None:
        return None if self.metrics is None else self.metrics.port

    def stop(self, grace: float | None = None, delay: float = 0.0) -> None:
        """Report NOT_SERVING (load balancers stop sending; /healthz says 503), keep accepting calls
        for `delay` seconds (until the balancers have seen it), then let in-flight calls finish;
        /metrics stays up while they drain."""
        self.reporter.stop()
        self.health.enter_graceful_shutdown()
        if delay > 0:
            time.sleep(delay)
        self.server.stop(self.grace_seconds if grace is None else grace).wait()
        for callback in self.on_stop:
            callback()
        self._forget_outbox()
        if self.metrics is not None:
            self.metrics.stop()

    def wait(self) -> None:
        self.server.wait_for_termination()


def connection_age_options(settings: ServiceSettings) -> list[tuple[str, int]]:
    """Close client connections after MAX_CONNECTION_AGE_SECONDS (with a jitter gRPC adds) so clients
    reconnect and spread over the replicas of the moment; none when it is 0."""
    if settings.max_connection_age_seconds <= 0:
        return []
    return [
        ("grpc.max_connection_age_ms", int(settings.max_connection_age_seconds * 1000)),
        ("grpc.max_connection_age_grace_ms", int(settings.max_connection_age_grace_seconds * 1000)),
    ]


def start_server(
    settings: ServiceSettings,
    registrations: Sequence[ServiceRegistration],
    verifier: TokenVerifier,
    guard: AccessGuard,
    probe: Probe,
    engine: Engine | None = None,
) -> RunningServer:
    """Serve `registrations`; with `engine`, its outbox is reported in the metrics; with
    `settings.metrics_port`, `/metrics` and `/healthz` are served over HTTP too."""
    policies = {}
    for registration in registrations:
        policies.update(policies_for_service(registration.full_name))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.max_workers, thread_name_prefix=settings.service_name),
        # The tracing interceptor (when on) first: the call's span holds everything the call does.
        interceptors=[
            *tracing.server_interceptors(),
            ServiceInterceptor(settings.service_name, policies, verifier, guard),
        ],
        options=[
            *connection_age_options(settings),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
        ],
    )
    for registration in registrations:
        registration.add_to_server(registration.servicer, server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [r.full_name for r in registrations]
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server
    )
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    if port == 0:
        raise RuntimeError(f"cannot bind {settings.grpc_host}:{settings.grpc_port}")
    reporter = HealthReporter(health_servicer, names, probe, settings.health_check_interval_seconds)
    running = RunningServer(
        server,
        port,
        health_servicer,
        reporter,
        settings.shutdown_grace_seconds,
        shutdown_delay_seconds=settings.shutdown_delay_seconds,
    )
    if settings.metrics_port:  # bound before serving: a taken port fails the start, not a later scrape
        running.metrics = MetricsServer(settings.metrics_host, settings.metrics_port, lambda: reporter.serving)
    server.start()
    reporter.start()
    if running.metrics is not None:
        running.metrics.start()
    if engine is not None:
        running._forget_outbox = OUTBOX.add(settings.service_name, engine, lambda: reporter.serving)
    log.info("server.started", port=port, services=names, metrics_port=running.metrics_port)
    return running


def serve_until_signal(running: RunningServer) -> None:
    """Block until SIGTERM/SIGINT, then shut down gracefully (health first, then drain)."""
    stopping = threading.Event()

    def _on_signal(signum: int, _: FrameType | None) -> None:
        log.info("server.stopping", signal=signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    stopping.wait()
    # Calls that balancers send before their next health check still land here: they are served,
    # not refused (a refused call is CANCELLED, which no balancer retries).
    running.stop(delay=running.shutdown_delay_seconds)
    log.info("server.stopped")

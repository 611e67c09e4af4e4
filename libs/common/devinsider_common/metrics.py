"""Prometheus metrics of a service process, and the small HTTP endpoint serving them with `/healthz`.

One `CollectorRegistry` per process (`REGISTRY`). The server interceptor records every RPC it
handles (`rpc_started`, `observe_rpc`: the conventional `grpc_server_*` names); the outbox gauges are
read from each registered service's database at scrape time by `OutboxCollector` (one cheap grouped
COUNT/MIN; a database error yields no sample, never a failed scrape). `MetricsServer` serves `/metrics`
(Prometheus text format) and `/healthz` (200 while the health reporter says SERVING, 503 otherwise: for
probes that do not speak gRPC).
"""

from __future__ import annotations

import itertools
import socketserver
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_wsgi_app,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from devinsider_common.outbox.tables import FAILED, PENDING, outbox_messages

log = structlog.get_logger("devinsider.metrics")

REGISTRY = CollectorRegistry(auto_describe=True)
# The client's standard process metrics (CPU, memory, open fds, GC, Python version) as well.
for _standard in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_standard)

# Seconds; from a cached read (~1 ms) to calls that hit the gateway's 15 s timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)

# The conventional gRPC server metrics (grpc-ecosystem's go-grpc-prometheus, java-grpc-prometheus...), so
# that stock dashboards and alerts work: `grpc_service` is the full proto service name, `grpc_type` always
# `unary` (our services have no streaming method).
STARTED_TOTAL = Counter(
    "grpc_server_started_total",
    "RPCs started on the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
    registry=REGISTRY,
)
HANDLED_TOTAL = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, whatever their status code.",
    ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
    registry=REGISTRY,
)
HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Response latency (seconds) of RPCs handled by the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)


# The consumer runtime (devinsider_common.consumer): what became of each message, and the queues' depth.
CONSUMED_TOTAL = Counter(
    "devinsider_consumer_messages_total",
    "Messages taken from a consumer queue, by queue and outcome "
    "(handled, duplicate, retried, dead_lettered, undecodable).",
    ["queue", "outcome"],
    registry=REGISTRY,
)
CONSUMER_QUEUE_MESSAGES = Gauge(
    "devinsider_consumer_queue_messages",
    "Messages waiting in a consumer's queue (`ready`: its lag) or in its dead-letter queue (`dead`).",
    ["queue", "state"],
    registry=REGISTRY,
    multiprocess_mode="mostrecent",  # every worker reads the same queue: the latest reading
)
CONSUMER_CONNECTED = Gauge(
    "devinsider_consumer_connected",
    "Consumers holding their RabbitMQ connection: 1 per connected process (0: none consumes).",
    ["service"],
    registry=REGISTRY,
    multiprocess_mode="livesum",
)


def _split(path: str) -> tuple[str, str]:
    """`/pkg.Service/Method` -> (`pkg.Service`, `Method`)."""
    service, _, method = path.lstrip("/").partition("/")
    return service, method


def rpc_started(method: str) -> None:
    """Count a call the interceptor starts (`method` is the gRPC path `/pkg.Service/Method`)."""
    STARTED_TOTAL.labels("unary", *_split(method)).inc()


def observe_rpc(method: str, code: str, seconds: float) -> None:
    """Record one handled call (`method` is the gRPC path, `code` e.g. `NOT_FOUND`)."""
    service, name = _split(method)
    HANDLED_TOTAL.labels("unary", service, name, code).inc()
    HANDLING_SECONDS.labels("unary", service, name).observe(seconds)


@dataclass(frozen=True)
class _Source:
    service: str
    engine: Engine
    healthy: Callable[[], bool]


_o = outbox_messages.c


class OutboxCollector(Collector):
    """Outbox backlog, relay lag and failed rows of every service registered in this process."""

    def __init__(self) -> None:
        self._sources: dict[int, _Source] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()

    def add(self, service: str, engine: Engine, healthy: Callable[[], bool] = lambda: True) -> Callable[[], None]:
        """Report `engine`'s outbox under `service` (skipped while `healthy()` is false, so a
        database outage never slows scrapes down); returns the function that stops reporting it."""
        with self._lock:
            key = next(self._ids)
            self._sources[key] = _Source(service, engine, healthy)

        def remove() -> None:
            with self._lock:
                self._sources.pop(key, None)

        return remove

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily("devinsider_outbox_backlog", "Outbox rows waiting to be relayed.", labels=["service"]),
            GaugeMetricFamily(
                "devinsider_outbox_relay_lag_seconds",
                "Age of the oldest outbox row waiting to be relayed (0 when none waits).",
                labels=["service"],
            ),
            GaugeMetricFamily(
                "devinsider_outbox_failed",
                "Outbox rows the broker refused until they were marked failed.",
                labels=["service"],
            ),
        )

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        backlog, lag, failed = self._families()
        with self._lock:
            sources = list(self._sources.values())
        seen: set[str] = set()
        for source in reversed(sources):  # the latest registration of a service name wins
            if source.service in seen:
                continue
            seen.add(source.service)
            counts = self._read(source)
            if counts is None:
                continue
            pending, oldest, failed_rows = counts
            backlog.add_metric([source.service], pending)
            lag.add_metric([source.service], _age_seconds(oldest))
            failed.add_metric([source.service], failed_rows)
        return (backlog, lag, failed)

    @staticmethod
    def _read(source: _Source) -> tuple[int, datetime | None, int] | None:
        try:
            if not source.healthy():
                return None
            query = (
                select(_o.status, func.count(), func.min(_o.created_at))
                .where(_o.status.in_((PENDING, FAILED)))
                .group_by(_o.status)
            )
            with source.engine.connect() as connection:
                rows = {row[0]: (int(row[1]), row[2]) for row in connection.execute(query)}
        except Exception as error:  # no sample rather than a failed scrape
            log.warning("metrics.outbox_unavailable", service=source.service, error=str(error))
            return None
        pending, oldest = rows.get(PENDING, (0, None))
        return pending, oldest, rows.get(FAILED, (0, None))[0]


def _age_seconds(oldest: datetime | None) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite returns naive UTC timestamps
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - oldest).total_seconds())


OUTBOX = OutboxCollector()
REGISTRY.register(OUTBOX)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes and probes every few seconds would flood the logs."""


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def http_app(serving: Callable[[], bool], registry: CollectorRegistry = REGISTRY) -> WsgiApp:
    """`/healthz` from `serving()`; everything else is prometheus_client's app (`/metrics`)."""
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            ok = serving()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [b"SERVING\n" if ok else b"NOT_SERVING\n"]
        result: Iterable[bytes] = metrics_app(environ, start_response)
        return result

    return app


class MetricsServer:
    """`/metrics` and `/healthz` over HTTP on a daemon thread."""

    def __init__(
        self, host: str, port: int, serving: Callable[[], bool], registry: CollectorRegistry = REGISTRY
    ) -> None:
        self._httpd = make_server(
            host, port, http_app(serving, registry), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.port: int = self._httpd.server_port
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="metrics-http", daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def iter_samples(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample in a Prometheus text exposition (tests read /metrics with it)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, dict(sample.labels), float(sample.value)

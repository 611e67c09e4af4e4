"""`WORKERS` processes of one service on one port, under a supervisor: every core serves calls.

A Python process serves calls on one core at a time (the GIL), so a service on N cores runs N worker
processes. Each is the whole service (`start(settings)`: server, consumers, relay), bound to the same
port with SO_REUSEPORT (grpcio sets it on Linux), and the kernel spreads connections over them. The
workers are spawned, not forked: gRPC's core, database pools and broker connections do not survive a
fork, and a spawned worker starts from nothing.

The supervisor (the process the orchestrator starts and signals):
- serves `/metrics` and `/healthz` on METRICS_PORT: the workers' metrics summed through
  prometheus_client's multiprocess mode (their samples live in files under a private directory), the
  outbox gauges read from the database, and 200 only while every worker reports SERVING;
- restarts a worker that dies (with a growing pause if it keeps dying), and stops with exit status 2
  when one refuses its configuration;
- on SIGTERM/SIGINT turns `/healthz` to 503 and passes SIGTERM to every worker, each of which drains
  as a single process does (NOT_SERVING, the delay, in-flight calls finish), then exits.

Scheduled jobs run in worker 0 only (`runs_jobs_here`): the jobs' lock keeps one run across replicas
when Redis is configured, but an in-process lock could not span processes. On SQLite the service runs
one process whatever WORKERS says: the file takes one writer at a time, so more processes would only
wait for each other's locks.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

import structlog

from devinsider_common.settings import ServiceSettings

log = structlog.get_logger("devinsider.workers")

WORKER_ENV = "DEVINSIDER_WORKER"  # the index of a worker process, set by its supervisor
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when a worker imports it
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
# A worker that dies sooner than this after its start counts as a crash loop: the next start waits
# twice as long as the last one did, up to MAX_RESTART_PAUSE.
STABLE_SECONDS = 30.0
MAX_RESTART_PAUSE = 30.0
READY_POLL_SECONDS = 0.5
PARENT_POLL_SECONDS = 1.0

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


class _Served(Protocol):
    """What a worker needs of the service `start` returns (a RunningService)."""

    @property
    def server(self) -> Any: ...


def available_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """Cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota (a container's
    CPU limit, which the affinity does not show), rounded up."""
    cores = len(os.sched_getaffinity(0))
    with suppress(OSError, ValueError):
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    return max(1, cores)


def worker_count(settings: ServiceSettings) -> int:
    """How many processes serve: WORKERS, or one per available core when it is 0; one when the settings say
    the service must run alone (`single_process_reason`: SQLite, billing's local payment provider)."""
    wanted = settings.workers or available_cores()
    reason = settings.single_process_reason()
    if wanted > 1 and reason:
        log.info("workers.single_process", reason=reason, workers_setting=wanted)
        return 1
    return wanted


def current_worker() -> int | None:
    """This process's index under a supervisor, or None when it serves alone."""
    value = os.environ.get(WORKER_ENV, "")
    return int(value) if value.isdigit() else None


def runs_jobs_here() -> bool:
    """Whether this process runs the scheduled jobs: a lone process, or worker 0 of a supervisor."""
    return current_worker() in (None, 0)


def _reserve_port(host: str, port: int) -> tuple[socket.socket | None, int]:
    """GRPC_PORT 0 asks for any free port, which every worker must share: a socket bound to it with
    SO_REUSEPORT (never listening) picks it and keeps it ours until the end."""
    if port:
        return None, port
    family = socket.AF_INET6 if ":" in host or host == "[::]" else socket.AF_INET
    reserved = socket.socket(family, socket.SOCK_STREAM)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    reserved.bind((host.strip("[]"), 0))
    return reserved, reserved.getsockname()[1]


def _stop_with_parent(parent: int) -> None:
    """A supervisor killed outright (SIGKILL, an OOM kill) cannot stop its workers: each one watches for it
    and stops itself (SIGTERM: the usual drain), so no orphan keeps the port and its database connections."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        log.warning("workers.supervisor_gone", parent=parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="worker-parent-watch", daemon=True).start()


def _worker_main(
    factory: Callable[[], SettingsT],
    process: str,
    start: Callable[[SettingsT], _Served],
    index: int,
    port: int,
    ready: Any,
) -> None:
    """A spawned worker: the service on the shared port (traced with its own provider when OTEL_* ask for
    it), its readiness in `ready[index]`."""
    from devinsider_common import tracing
    from devinsider_common.logging import configure_logging
    from devinsider_common.startup import configure_tracing, load_settings

    _stop_with_parent(os.getppid())
    os.environ |= {WORKER_ENV: str(index), "GRPC_PORT": str(port), "METRICS_PORT": "0", "WORKERS": "1"}
    settings = load_settings(factory, process)
    configure_logging(settings.service_name, settings.log_level, settings.log_json, worker=index)
    # Its own tracer provider (a batch exporter's thread does not cross processes; spawned, nothing to reset).
    configure_tracing(settings.service_name, process)
    try:
        _serve_worker(start(settings), index, ready)
    finally:
        tracing.shutdown()


def _serve_worker(service: _Served, index: int, ready: Any) -> None:
    from devinsider_common.grpc.server import serve_until_signal

    reporter = service.server.reporter
    stopped = threading.Event()

    def report() -> None:
        while not stopped.wait(READY_POLL_SECONDS):
            ready[index] = 1 if reporter.serving else 0

    threading.Thread(target=report, name="worker-ready", daemon=True).start()
    try:
        serve_until_signal(service.server)
    finally:
        stopped.set()
        ready[index] = 0


@dataclass
class _Worker:
    index: int
    process: multiprocessing.process.BaseProcess
    started: float
    pause: float = 0.0  # how long the supervisor waited before this start


class Supervisor:
    """Starts `count` workers of a service and keeps them running until SIGTERM/SIGINT."""

    def __init__(
        self,
        settings: SettingsT,
        factory: Callable[[], SettingsT],
        process: str,
        start: Callable[[SettingsT], _Served],
        count: int,
    ) -> None:
        self.settings, self._factory, self._process, self._start, self.count = settings, factory, process, start, count
        self._context = multiprocessing.get_context("spawn")
        self._ready: Any = self._context.Array("b", count, lock=False)
        self._stopping = threading.Event()
        self._workers: dict[int, _Worker] = {}
        self.port = 0

    def serving(self) -> bool:
        """`/healthz`: every worker up and SERVING, and no stop under way."""
        return not self._stopping.is_set() and all(self._ready[i] for i in range(self.count))

    def run(self) -> int:
        """Serve until a signal; the exit status (0, or 2 when a worker refused its configuration)."""
        metrics_dir = Path(tempfile.mkdtemp(prefix=f"devinsider-{self.settings.service_name}-metrics-"))
        os.environ[MULTIPROC_ENV] = str(metrics_dir)  # inherited by every spawned worker
        reserved, self.port = _reserve_port(self.settings.grpc_host, self.settings.grpc_port)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        metrics = self._start_metrics(metrics_dir)
        status = 0
        try:
            for index in range(self.count):
                self._spawn(index, pause=0.0)
            log.info("workers.started", workers=self.count, port=self.port)
            status = self._watch(metrics_dir)
        finally:
            self._stopping.set()
            self._stop_workers()
            if metrics is not None:
                metrics.stop()
            if reserved is not None:
                reserved.close()
            os.environ.pop(MULTIPROC_ENV, None)
            shutil.rmtree(metrics_dir, ignore_errors=True)
        log.info("workers.stopped", status=status)
        return status

    def _on_signal(self, signum: int, _: FrameType | None) -> None:
        log.info("workers.stopping", signal=signal.Signals(signum).name)
        self._stopping.set()

    def _spawn(self, index: int, pause: float) -> None:
        process = self._context.Process(
            target=_worker_main,
            args=(self._factory, self._process, self._start, index, self.port, self._ready),
            name=f"{self.settings.service_name}-worker-{index}",
        )
        process.start()
        self._workers[index] = _Worker(index, process, time.monotonic(), pause)

    def _watch(self, metrics_dir: Path) -> int:
        from prometheus_client import multiprocess

        from devinsider_common.startup import EXIT_BAD_CONFIGURATION

        while not self._stopping.is_set():
            sentinels = [w.process.sentinel for w in self._workers.values()]
            wait(sentinels, timeout=READY_POLL_SECONDS)
            for worker in list(self._workers.values()):
                process = worker.process
                if process.is_alive() or self._stopping.is_set():
                    continue
                self._ready[worker.index] = 0
                if process.pid is not None:
                    multiprocess.mark_process_dead(process.pid, str(metrics_dir))  # type: ignore[no-untyped-call]
                if process.exitcode == EXIT_BAD_CONFIGURATION:
                    log.error("workers.bad_configuration", worker=worker.index)
                    return EXIT_BAD_CONFIGURATION
                lived = time.monotonic() - worker.started
                pause = 0.0 if lived >= STABLE_SECONDS else min(MAX_RESTART_PAUSE, max(1.0, worker.pause * 2))
                log.warning("workers.restarting", worker=worker.index, exit_code=process.exitcode, pause_s=pause)
                if self._stopping.wait(pause):
                    break
                self._spawn(worker.index, pause)
        return 0

    def _stop_workers(self) -> None:
        """SIGTERM to every worker, then wait for each to drain (as a lone process would), then kill."""
        alive = [w.process for w in self._workers.values() if w.process.is_alive()]
        for process in alive:
            if process.pid is not None:
                with suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.shutdown_delay_seconds + self.settings.shutdown_grace_seconds + 10
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("workers.killed", pid=process.pid)
                process.kill()
                process.join()

    def _start_metrics(self, metrics_dir: Path) -> Any:
        """`/metrics` (the workers' samples summed, the outbox read here) and `/healthz`, or None."""
        if not self.settings.metrics_port:
            return None
        from prometheus_client import CollectorRegistry, multiprocess

        from devinsider_common.db.engine import create_service_engine
        from devinsider_common.metrics import OUTBOX, MetricsServer

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, str(metrics_dir))  # type: ignore[no-untyped-call]
        engine = create_service_engine(self.settings.effective_database_url, self.settings.schema_name, pool_size=1)
        OUTBOX.add(self.settings.service_name, engine, self.serving)
        registry.register(OUTBOX)
        server = MetricsServer(self.settings.metrics_host, self.settings.metrics_port, self.serving, registry)
        return server.start()

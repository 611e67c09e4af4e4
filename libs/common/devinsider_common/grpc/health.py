"""grpc.health.v1 whose status follows the service's dependencies (its database)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import structlog
from grpc_health.v1 import health, health_pb2

log = structlog.get_logger("devinsider.health")

Probe = Callable[[], bool]


class HealthReporter:
    """Runs a probe every `interval` seconds and sets SERVING / NOT_SERVING for every service name."""

    def __init__(self, servicer: health.HealthServicer, services: Iterable[str], probe: Probe, interval: float) -> None:
        self._servicer = servicer
        self._services = ["", *services]
        self._probe = probe
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="health-probe", daemon=True)
        self._last: bool | None = None

    def start(self) -> None:
        self.check_now()
        self._thread.start()

    def check_now(self) -> bool:
        try:
            healthy = self._probe()
        except Exception:  # a probe failure means not serving, never a crash
            healthy = False
        if healthy != self._last:
            log.info("health.changed", serving=healthy)
            self._last = healthy
        status = health_pb2.HealthCheckResponse.SERVING if healthy else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in self._services:
            self._servicer.set(name, status)
        return healthy

    @property
    def serving(self) -> bool:
        """What the last probe said; false once stopped (a draining server takes no new traffic)."""
        return bool(self._last) and not self._stop.is_set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.check_now()

    def stop(self) -> None:
        self._stop.set()

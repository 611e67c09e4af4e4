"""`devinsider_common.workers`: WORKERS processes of one service on one port under a supervisor, run as a
service's `main` runs (worker_service.py, a subprocess on PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.metrics import iter_samples
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.services import TEST_ISSUER, bearer
from devinsider_common.testing.tokens import TokenFactory
from devinsider_gateway.testing.envoy import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SERVICE = Path(__file__).with_name("worker_service.py")
CALLS = 40


class Supervised:
    """The supervisor process, its gRPC port (read from its `workers.started` line) and its HTTP port."""

    def __init__(self, process: subprocess.Popen[str], metrics_port: int, token: str, job_log: Path) -> None:
        self.process, self.metrics_port, self.token, self.job_log = process, metrics_port, token, job_log
        self.lines: list[dict[str, object]] = []
        self.port = 0

    def read_port(self) -> int:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("event") == "workers.started":
                self.port = int(str(entry["port"]))
                return self.port
        raise AssertionError(f"the supervisor ended ({self.process.wait()}) without starting its workers")

    def healthz(self) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/healthz", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    def metric(self, name: str, **labels: str) -> float:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        return sum(v for n, found, v in iter_samples(text) if n == name and labels.items() <= found.items())

    def serving_pid(self) -> int:
        """The pid of the worker that served one GetMe on a connection of its own."""
        with grpc.insecure_channel(f"127.0.0.1:{self.port}", options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
            user = user_pb2_grpc.UserServiceStub(ch).GetMe(
                user_pb2.GetMeRequest(), metadata=bearer(self.token), timeout=5
            )
        return int(user.name.rsplit("@", 1)[1])


@pytest.fixture
def supervised(
    tmp_path: Path, migrations_dir: Path, pg_schema: tuple[str, str]
) -> Iterator[Callable[[int], Supervised]]:
    started: list[Supervised] = []

    def start(workers: int) -> Supervised:
        url, schema = pg_schema
        token = TokenFactory(tmp_path / "keys")("kc-alice")  # writes the dev keys the service reads
        metrics_port, job_log = free_port(), tmp_path / "jobs.log"
        env = os.environ | {
            "WORKERS": str(workers),
            "SERVICE_NAME": "worker-test",
            "GRPC_PORT": "0",
            "METRICS_PORT": str(metrics_port),
            "DATABASE_URL": url,
            "DATABASE_SCHEMA": schema,
            "AUTH_ISSUER": TEST_ISSUER,
            "AUTH_DEV_KEY_DIR": str(tmp_path / "keys"),
            "USER_TARGET": "",
            "AMQP_URL": "",
            "REDIS_URL": "",
            "HEALTH_CHECK_INTERVAL_SECONDS": "0.2",
            "SHUTDOWN_DELAY_SECONDS": "0.5",
            "SHUTDOWN_GRACE_SECONDS": "2",
            "TEST_MIGRATIONS_DIR": str(migrations_dir),
            "JOB_LOG": str(job_log),
        }
        process = subprocess.Popen(
            [sys.executable, str(SERVICE)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        supervised = Supervised(process, metrics_port, token, job_log)
        started.append(supervised)
        supervised.read_port()
        assert wait_for(lambda: supervised.healthz() == 200, timeout=30), "every worker SERVING"
        return supervised

    yield start
    for supervised in started:
        if supervised.process.poll() is None:
            supervised.process.kill()
            supervised.process.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_workers_share_the_port_and_the_supervisor_sums_their_metrics(
    supervised: Callable[[int], Supervised],
) -> None:
    service = supervised(2)
    pids = [service.serving_pid() for _ in range(CALLS)]
    assert len(set(pids)) == 2 and service.process.pid not in pids  # both workers served, not the supervisor
    assert service.metric("grpc_server_handled_total", grpc_method="GetMe", grpc_code="OK") == CALLS
    # Scheduled jobs run in worker 0 only (its lock is in-process without Redis: it could not span workers).
    assert wait_for(lambda: service.job_log.exists() and len(service.job_log.read_text().split()) >= 3)
    runs = {line.split(":")[0] for line in service.job_log.read_text().split()}
    assert runs == {"0"}


def test_a_dead_worker_is_replaced_and_sigterm_stops_every_worker(supervised: Callable[[int], Supervised]) -> None:
    service = supervised(2)
    pids = {service.serving_pid() for _ in range(CALLS)}
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: service.healthz() == 503, timeout=10), "/healthz says a worker is missing"
    assert wait_for(lambda: service.healthz() == 200, timeout=30), "the worker is replaced"
    served = {service.serving_pid() for _ in range(CALLS)}
    assert victim not in served and len(served) == 2

    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(timeout=30) == 0
    assert not any(_alive(pid) for pid in served)


def test_workers_stop_when_their_supervisor_is_killed_outright(supervised: Callable[[int], Supervised]) -> None:
    service = supervised(2)
    pids = {service.serving_pid() for _ in range(CALLS)}
    assert len(pids) == 2
    service.process.kill()  # SIGKILL: no chance to stop its workers
    service.process.wait()
    assert wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=30), "no orphan worker left"

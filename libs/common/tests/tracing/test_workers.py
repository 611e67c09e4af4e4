"""Under WORKERS every worker process traces with its own provider and exporter (spawned: no batch thread is
inherited), and what it still holds is exported when SIGTERM stops it (the supervisor's test service,
workers/worker_service.py, on PostgreSQL, exporting to a collector in this test)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.testing.otlp import Collector
from devinsider_common.testing.services import TEST_ISSUER, bearer
from devinsider_common.testing.tokens import TokenFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SERVICE = Path(__file__).resolve().parents[1] / "workers" / "worker_service.py"
CALLS = 30


@pytest.fixture
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.stop()


def test_each_worker_exports_its_spans_and_flushes_them_on_sigterm(
    tmp_path: Path, migrations_dir: Path, pg_schema: tuple[str, str], collector: Collector
) -> None:
    url, schema = pg_schema
    token = TokenFactory(tmp_path / "keys")("kc-alice")
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")} | {
        "WORKERS": "2",
        "SERVICE_NAME": "worker-test",
        "GRPC_PORT": "0",
        "DATABASE_URL": url,
        "DATABASE_SCHEMA": schema,
        "AUTH_ISSUER": TEST_ISSUER,
        "AUTH_DEV_KEY_DIR": str(tmp_path / "keys"),
        "USER_TARGET": "",
        "AMQP_URL": "",
        "REDIS_URL": "",
        "SHUTDOWN_DELAY_SECONDS": "0",
        "SHUTDOWN_GRACE_SECONDS": "2",
        "TEST_MIGRATIONS_DIR": str(Path(migrations_dir)),
        "JOB_LOG": str(tmp_path / "jobs.log"),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{collector.endpoint}",
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel,process",  # process.pid on each span's resource
        "OTEL_BSP_SCHEDULE_DELAY": "600000",  # nothing is exported before the stop
    }
    process = subprocess.Popen(
        [sys.executable, str(SERVICE)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        port = 0
        for line in process.stderr:
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("event") == "workers.started":
                port = int(entry["port"])
                break
        assert port, f"the supervisor ended ({process.wait()}) without starting its workers"
        served: set[int] = set()
        for _ in range(CALLS):
            options = [("grpc.use_local_subchannel_pool", 1)]
            with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
                user = user_pb2_grpc.UserServiceStub(channel).GetMe(
                    user_pb2.GetMeRequest(), metadata=bearer(token), timeout=10, wait_for_ready=True
                )
            served.add(int(user.name.rsplit("@", 1)[1]))
        assert len(served) == 2
        assert collector.spans == []  # still batched in the workers
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    calls = [s for s in collector.spans if s.name == "/devinsider.user.v1.UserService/GetMe"]
    assert len(calls) == CALLS
    assert {s.service for s in calls} == {"worker-test"}
    assert {int(s.resource["process.pid"]) for s in calls} == served  # each worker its own exporter

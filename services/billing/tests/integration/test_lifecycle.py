"""The service as a process and as replicas: embedded defaults, health, SIGTERM, the period-end
job run by two replicas at once changing each subscription once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import func, select

from billing_service.bootstrap import BillingService, start
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.neighbours import Neighbours
from devinsider_common.testing.services import TEST_ISSUER
from devinsider_common.testing.tokens import TokenFactory

from ..conftest import make_settings
from ..helpers import checkout, pay


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_the_process_runs_on_embedded_defaults_and_stops_on_sigterm(tmp_path: Path) -> None:
    port, provider_port = _free_port(), _free_port()
    env = os.environ | {
        "GRPC_PORT": str(port),
        "LOCAL_PROVIDER_PORT": str(provider_port),
        "USER_TARGET": "",
        "AUTH_ISSUER": TEST_ISSUER,
        "AUTH_DEV_KEY_DIR": str(tmp_path / "keys"),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "AMQP_URL": "",
        "SHUTDOWN_DELAY_SECONDS": "0",  # the delay before draining is the shared server's (tested there)
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "billing_service.main"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            plans = billing_pb2_grpc.BillingServiceStub(channel).ListPlans(billing_pb2.ListPlansRequest(), timeout=5)
            assert len(plans.plans) == 11
        assert (tmp_path / "var" / "billing.sqlite3").exists()
        with pytest.raises(urllib.error.HTTPError) as error:  # the local provider answers on its own port
            urllib.request.urlopen(f"http://127.0.0.1:{provider_port}/pay/unknown", timeout=5)
        assert error.value.code == 404
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.mark.slow
def test_two_replicas_running_the_job_together_change_each_subscription_once(
    tmp_path: Path, pg_schema: tuple[str, str], neighbours: Neighbours, tokens: TokenFactory
) -> None:
    clock = FakeClock()
    first = start(make_settings(tmp_path, *pg_schema, neighbours.target), clock=clock)
    second = start(make_settings(tmp_path, *pg_schema, neighbours.target), clock=clock)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{first.port}") as channel:
            stub = billing_pb2_grpc.BillingServiceStub(channel)
            for i in range(6):
                page = f"companies/c{i}"
                neighbours.add_member(page, f"kc-{i}", PageRole.OWNER)
                pay(checkout(stub, tokens(f"kc-{i}"), page, "plans/isv-pro-monthly").checkout_url)
        clock.advance(days=32)
        barrier = threading.Barrier(2)
        handled: list[int] = []

        def run(service: BillingService) -> None:
            barrier.wait()
            handled.append(service.app.jobs.run())

        threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sum(handled) == 6
        changed = select(func.count()).where(
            outbox_messages.c.event_type == "devinsider.billing.v1.SubscriptionChanged"
        )
        with first.engine.connect() as connection:
            assert connection.execute(changed).scalar_one() == 12  # 6 created + 6 past due, never twice
    finally:
        first.stop(grace=0)
        second.stop(grace=0)

"""A replica added under load gets calls: servers close connections after MAX_CONNECTION_AGE_SECONDS,
so a long-lived client channel connects again, and its new connection lands where the balancer now
sends it (here a TCP proxy retargeted to the new replica, as a Kubernetes Service or DNS would).
No call fails on the way: an aged connection is closed gracefully (GOAWAY, calls in flight finish)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.verifier import AllowAll
from devinsider_common.grpc.clients import create_channel
from devinsider_common.grpc.server import RunningServer, ServiceRegistration, connection_age_options, start_server
from devinsider_common.settings import ServiceSettings
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.services import base_settings, bearer
from devinsider_common.testing.tcp_proxy import TcpProxy
from devinsider_common.testing.tokens import TokenFactory

USERS = "devinsider.user.v1.UserService"


class Replica(user_pb2_grpc.UserServiceServicer):
    """GetMe answers with the replica's name, so the client sees where each call went."""

    def __init__(self, name: str) -> None:
        self.name = name

    def GetMe(self, request: user_pb2.GetMeRequest, context: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        return user_pb2.User(name=f"users/{self.name}")


def _settings(tmp_path: Path, age: float) -> ServiceSettings:
    values = base_settings(tmp_path, f"sqlite+pysqlite:///{tmp_path / 'unused.sqlite3'}", "unused")
    values |= {"max_connection_age_seconds": age, "max_connection_age_grace_seconds": 1.0}
    return ServiceSettings(**values)  # type: ignore[arg-type]


def _serve(settings: ServiceSettings, name: str) -> RunningServer:
    replica = Replica(name)  # type: ignore[abstract]  # only GetMe exists
    registration = ServiceRegistration(USERS, user_pb2_grpc.add_UserServiceServicer_to_server, replica)
    return start_server(settings, [registration], JwtVerifier(settings.auth), AllowAll(), probe=lambda: True)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[RunningServer, RunningServer, ServiceSettings]]:
    settings = _settings(tmp_path, age=1.0)
    first, second = _serve(settings, "first"), _serve(settings, "second")
    yield first, second, settings
    first.stop(0)
    second.stop(0)


def test_a_replica_added_under_load_receives_calls_and_none_fails(
    tmp_path: Path, replicas: tuple[RunningServer, RunningServer, ServiceSettings]
) -> None:
    first, second, settings = replicas
    metadata = bearer(TokenFactory(settings.auth.dev_key_dir)("kc-ada"))
    served: Counter[str] = Counter()
    failures: list[grpc.StatusCode] = []
    stop = threading.Event()
    with TcpProxy(("127.0.0.1", first.port)) as balancer:
        channel = create_channel(balancer.address)
        stub = user_pb2_grpc.UserServiceStub(channel)

        def load() -> None:  # a steady client on one long-lived channel
            while not stop.is_set():
                try:
                    served[stub.GetMe(user_pb2.GetMeRequest(), metadata=metadata, timeout=5).name] += 1
                except grpc.RpcError as error:
                    failures.append(error.code())

        workers = [threading.Thread(target=load) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            assert wait_for(lambda: served["users/first"] >= 20, timeout=10), "the first replica serves"
            balancer.retarget(("127.0.0.1", second.port))  # the balancer now sends new connections there
            reached = wait_for(lambda: served["users/second"] >= 20, timeout=15)
        finally:
            stop.set()
            for worker in workers:
                worker.join()
            channel.close()
    assert reached, f"the added replica got {served['users/second']} calls: connections never aged"
    assert failures == []


def test_the_age_is_a_setting_and_zero_keeps_connections() -> None:
    aged = ServiceSettings(max_connection_age_seconds=120, max_connection_age_grace_seconds=30)
    assert dict(connection_age_options(aged)) == {
        "grpc.max_connection_age_ms": 120_000,
        "grpc.max_connection_age_grace_ms": 30_000,
    }
    assert connection_age_options(ServiceSettings(max_connection_age_seconds=0)) == []

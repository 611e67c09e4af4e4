"""Operating the user service: health follows the database, reflection, graceful SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from sqlalchemy import create_engine, text

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.testing.failures import failure
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.tcp_proxy import TcpProxy
from devinsider_common.testing.tokens import TokenFactory
from user_service.bootstrap import UserService, start
from user_service.settings import UserSettings

from ..conftest import ISSUER, bearer, make_settings

SERVICE = "devinsider.user.v1.UserService"


def _health(channel: grpc.Channel, service: str = SERVICE) -> int:
    response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return int(response.status)


def test_reflection_lists_the_service_and_health_is_serving(channel: grpc.Channel) -> None:
    database = ProtoReflectionDescriptorDatabase(channel)
    services = set(database.get_services())
    assert {SERVICE, "grpc.health.v1.Health"} <= services
    assert database.FindFileContainingSymbol(SERVICE).name == "devinsider/user/v1/user.proto"
    assert _health(channel) == health_pb2.HealthCheckResponse.SERVING
    assert _health(channel, "") == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture
def behind_proxy(workdir: Path, pg_schema: tuple[str, str]) -> Iterator[tuple[UserService, TcpProxy]]:
    """A user service whose PostgreSQL connections go through a proxy the test can cut."""
    url, schema = pg_schema
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.start()
    service = start(make_settings(workdir, url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"), schema))
    yield service, proxy
    service.stop(grace=0)
    proxy.cut()


def test_health_follows_postgresql_and_an_outage_is_unavailable_not_internal(
    behind_proxy: tuple[UserService, TcpProxy], token: TokenFactory
) -> None:
    service, proxy = behind_proxy
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)
        auth = bearer(token("kc-outage"))
        assert _health(channel) == health_pb2.HealthCheckResponse.SERVING
        stub.GetMe(user_pb2.GetMeRequest(), metadata=auth)
        proxy.cut()
        assert wait_for(lambda: _health(channel) == health_pb2.HealthCheckResponse.NOT_SERVING)
        assert failure(lambda: stub.GetMe(user_pb2.GetMeRequest(), metadata=auth, timeout=20)).code == (
            grpc.StatusCode.UNAVAILABLE
        )
        proxy.start()
        assert wait_for(lambda: _health(channel) == health_pb2.HealthCheckResponse.SERVING)
        assert wait_for(lambda: _get_me_ok(stub, auth), timeout=15)


def _get_me_ok(stub: user_pb2_grpc.UserServiceStub, auth: tuple[tuple[str, str], ...]) -> bool:
    try:
        return bool(stub.GetMe(user_pb2.GetMeRequest(), metadata=auth, timeout=5).name)
    except grpc.RpcError:
        return False


@pytest.fixture
def service_process(
    tmp_path: Path, workdir: Path, pg_schema: tuple[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], UserSettings]]:
    """The real `python -m user_service.main` process, configured by environment variables."""
    url, schema = pg_schema
    settings = make_settings(workdir, url, schema)
    with socket_port() as port:
        env = os.environ | {
            "GRPC_PORT": str(port),
            "DATABASE_URL": url,
            "DATABASE_SCHEMA": schema,
            "AUTH_ISSUER": ISSUER,
            "AUTH_DEV_KEY_DIR": str(settings.auth.dev_key_dir),
            "SHUTDOWN_GRACE_SECONDS": "20",
            "SHUTDOWN_DELAY_SECONDS": "2",
            "ACCESS_CACHE_TTL_SECONDS": "0",
            "AMQP_URL": "",
        }
    process = subprocess.Popen(
        [sys.executable, "-m", "user_service.main"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    settings = settings.model_copy(update={"grpc_port": port})
    try:
        yield process, settings
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


class socket_port:  # noqa: N801 - used as a context manager like a function
    """A free TCP port (bound then released just before the service binds it)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    def __exit__(self, *_: object) -> None:
        return None


def test_sigterm_drains_in_flight_calls(
    service_process: tuple[subprocess.Popen[bytes], UserSettings], token: TokenFactory, pg_schema: tuple[str, str]
) -> None:
    process, settings = service_process
    target = f"127.0.0.1:{settings.grpc_port}"
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = user_pb2_grpc.UserServiceStub(channel)
        auth = bearer(token("kc-drain"))
        me = stub.GetMe(user_pb2.GetMeRequest(), metadata=auth, timeout=10)
        # Hold the user's row lock so the next UpdateMe is in flight when SIGTERM arrives.
        url, schema = pg_schema
        blocker = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
        with blocker.connect() as connection:
            connection.execute(text("SELECT 1 FROM users WHERE subject = 'kc-drain' FOR UPDATE"))
            results: dict[str, object] = {}

            def update() -> None:
                request = user_pb2.UpdateMeRequest(
                    user=user_pb2.User(job_title="Drained"), update_mask=field_mask_pb2.FieldMask(paths=["job_title"])
                )
                try:
                    results["user"] = stub.UpdateMe(request, metadata=auth, timeout=30)
                except grpc.RpcError as error:
                    results["error"] = error

            caller = threading.Thread(target=update)
            caller.start()
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert process.poll() is None, "the server must wait for the in-flight call"
            # Within the shutdown delay: health says NOT_SERVING (balancers stop sending), yet a call
            # that still arrives is served rather than refused.
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING
            assert stub.GetMe(user_pb2.GetMeRequest(), metadata=auth, timeout=5).name == me.name
            connection.rollback()
        caller.join(30)
        blocker.dispose()
    assert "error" not in results, results.get("error")
    assert results["user"].job_title == "Drained" and results["user"].name == me.name  # type: ignore[attr-defined]
    assert process.wait(30) == 0
    assert b"server.stopped" in (process.stderr.read() if process.stderr else b"")

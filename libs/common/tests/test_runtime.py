"""`devinsider_common.runtime`: open (migrations, verifier, guard, tokens), serve (health, the
interceptor, jobs, relay) and stop in one order; `run_service` is the whole of a service's `main`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import inspect, text

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import context
from devinsider_common import runtime as runtime_module
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.verifier import AllowAll
from devinsider_common.grpc.server import ServiceRegistration
from devinsider_common.jobs import Job
from devinsider_common.runtime import RunningService, Runtime, open_runtime, run_service, serve
from devinsider_common.settings import ServiceSettings
from devinsider_common.startup import EXIT_BAD_CONFIGURATION
from devinsider_common.testing.services import base_settings, bearer
from devinsider_common.testing.tokens import TokenFactory

USERS = "devinsider.user.v1.UserService"


def settings_for(tmp_path: Path, database: tuple[str, str], **values: Any) -> ServiceSettings:
    return ServiceSettings.model_validate(
        base_settings(tmp_path, *database) | {"service_name": "runtime-test"} | values
    )


@pytest.fixture
def opened(tmp_path: Path, migrations_dir: Path, pg_schema: tuple[str, str]) -> Iterator[Runtime[ServiceSettings]]:
    runtime = open_runtime(settings_for(tmp_path, pg_schema), migrations_dir)
    yield runtime
    runtime.close()


def test_open_runtime_migrates_the_schema_and_opens_what_services_share(
    tmp_path: Path, migrations_dir: Path, each_database: tuple[str, str]
) -> None:
    settings = settings_for(tmp_path, each_database)
    runtime = open_runtime(settings, migrations_dir)
    try:
        assert runtime.settings is settings
        assert "widgets" in inspect(runtime.engine).get_table_names()
        with runtime.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        assert isinstance(runtime.verifier, JwtVerifier)  # the real one unless a test passes its own
        assert isinstance(runtime.guard, AllowAll)  # no USER_TARGET: nobody refused
        service = runtime.verifier.verify(runtime.service_token())  # this service's own token, accepted
        assert service.subject == "service-runtime-test" and service.is_service
        assert runtime.service_channels is not runtime.channels
    finally:
        runtime.close()
    again = open_runtime(settings, migrations_dir, verifier=runtime.verifier, guard=runtime.guard)
    try:  # a second start finds the schema at head; a given verifier and guard are kept
        assert (again.verifier, again.guard) == (runtime.verifier, runtime.guard)
        assert "widgets" in inspect(again.engine).get_table_names()
    finally:
        again.close()


def test_a_user_target_gives_the_user_service_guard(
    tmp_path: Path, migrations_dir: Path, pg_schema: tuple[str, str]
) -> None:
    runtime = open_runtime(settings_for(tmp_path, pg_schema, user_target="127.0.0.1:1"), migrations_dir)
    try:
        assert not isinstance(runtime.guard, AllowAll)
        assert hasattr(runtime.guard, "ensure_user")  # UserServiceAccessGuard
    finally:
        runtime.close()


class Users(user_pb2_grpc.UserServiceServicer):
    """Only GetMe, answering who the interceptor says the caller is: the wiring is under test."""

    def GetMe(self, request: user_pb2.GetMeRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        principal = context.current_principal()
        return user_pb2.User(name=f"users/{principal.subject if principal else '?'}")


def _users() -> ServiceRegistration:
    servicer = Users()  # type: ignore[abstract]  # only GetMe exists
    return ServiceRegistration(USERS, user_pb2_grpc.add_UserServiceServicer_to_server, servicer)


def _health(port: int, service: str = "") -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return int(response.status)


def test_serve_answers_health_and_runs_the_registered_servicer_behind_the_interceptor(
    tmp_path: Path, opened: Runtime[ServiceSettings]
) -> None:
    service = serve(opened, app="the app", registrations=[_users()])
    try:
        assert (service.app, service.settings, service.engine) == ("the app", opened.settings, opened.engine)
        assert service.port == service.server.port > 0
        assert _health(service.port) == health_pb2.HealthCheckResponse.SERVING
        assert _health(service.port, USERS) == health_pb2.HealthCheckResponse.SERVING
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)
            with pytest.raises(grpc.RpcError) as anonymous:
                stub.GetMe(user_pb2.GetMeRequest(), timeout=5)
            assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED  # the shared interceptor
            token = TokenFactory(tmp_path / "keys")("kc-alice")  # signed by the runtime's dev issuer
            me = stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token), timeout=5)
            assert me.name == "users/kc-alice"  # the servicer, with the principal the verifier made
    finally:
        service.stop(grace=0)
    with pytest.raises(grpc.RpcError):
        _health(service.port)


class Recorder:
    def __init__(self) -> None:
        self.log: list[str] = []

    def hook(self, name: str) -> Callable[[], None]:
        return lambda: self.log.append(name)


def recorded(recorder: Recorder, name: str, original: Callable[[], None]) -> Callable[[], None]:
    def call() -> None:
        recorder.log.append(name)
        original()

    return call


class FakeRelay:
    def __init__(self, recorder: Recorder) -> None:
        self.stop = recorder.hook("relay")


def test_stop_drains_then_stops_jobs_relay_hooks_and_closes_the_runtime_in_that_order(
    monkeypatch: pytest.MonkeyPatch, opened: Runtime[ServiceSettings]
) -> None:
    recorder = Recorder()
    scheduled: list[list[Job]] = []
    port: list[int] = []

    def start_scheduler(jobs: list[Job], locks: object) -> Callable[[], None]:
        scheduled.append(jobs)

        def stop_jobs() -> None:  # the server has drained before anything else stops
            with pytest.raises(grpc.RpcError):
                _health(port[0])
            recorder.log.append("jobs")

        return stop_jobs

    monkeypatch.setattr(runtime_module, "start_scheduler", start_scheduler)
    monkeypatch.setattr(runtime_module, "start_relay_thread", lambda engine, broker: FakeRelay(recorder))
    for owner, name, method in (
        (opened.channels, "channels", "close"),
        (opened.service_channels, "service_channels", "close"),
        (opened.engine, "engine", "dispose"),
    ):
        monkeypatch.setattr(owner, method, recorded(recorder, f"{name}.{method}", getattr(owner, method)))
    job = Job("expire", lambda: 0, interval_seconds=60)
    service = serve(
        opened, None, [_users()], jobs=[job], on_stop=[recorder.hook("first hook"), recorder.hook("second hook")]
    )
    port.append(service.port)
    assert scheduled == [[job]] and service.jobs == [job]
    assert recorder.log == []
    service.stop(grace=0)
    assert recorder.log == [
        "jobs",
        "relay",
        "first hook",
        "second hook",
        "channels.close",
        "service_channels.close",
        "engine.dispose",
    ]


def test_jobs_do_not_run_when_told_not_to_and_no_relay_runs_without_a_broker(
    monkeypatch: pytest.MonkeyPatch, opened: Runtime[ServiceSettings]
) -> None:
    started: list[object] = []
    monkeypatch.setattr(runtime_module, "start_scheduler", lambda jobs, locks: started.append(jobs))
    job = Job("expire", lambda: 0, interval_seconds=60)
    service: RunningService[ServiceSettings, None] = serve(opened, None, [_users()], jobs=[job], run_jobs=False)
    try:
        assert started == [] and service.jobs == [job]
        assert service.server.on_stop == [opened.close]  # no scheduler, no relay: only the runtime closes
    finally:
        service.stop(grace=0)


def test_run_service_refuses_bad_settings_with_exit_2_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRPC_PORT", "not-a-port")
    started: list[ServiceSettings] = []

    def start(settings: ServiceSettings) -> RunningService[ServiceSettings, None]:
        started.append(settings)
        raise AssertionError("started with bad settings")

    with pytest.raises(SystemExit) as exited:
        run_service(ServiceSettings, "devinsider-test-service", start)
    assert exited.value.code == EXIT_BAD_CONFIGURATION == 2
    assert started == []
    assert capsys.readouterr().err.startswith("devinsider-test-service: refusing to start: GRPC_PORT:")


def test_run_service_starts_with_the_loaded_settings_and_serves_until_a_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRPC_PORT", "50999")
    monkeypatch.setenv("SERVICE_NAME", "runtime-test")
    calls: list[tuple[str, Any]] = []
    server = object()

    class Started:
        def __init__(self) -> None:
            self.server = server

    def start(settings: ServiceSettings) -> Any:
        calls.append(("start", settings.grpc_port))
        return Started()

    monkeypatch.setattr(runtime_module, "configure_logging", lambda *args: calls.append(("logging", args)))
    monkeypatch.setattr(runtime_module, "serve_until_signal", lambda running: calls.append(("serve", running)))
    run_service(ServiceSettings, "devinsider-test-service", start)
    assert calls == [("logging", ("runtime-test", "INFO", True)), ("start", 50999), ("serve", server)]

"""Service-side observability on real servers: /metrics (RPC counters and latency histograms, outbox
gauges from PostgreSQL), /healthz following the database, and x-request-id across two services."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from sqlalchemy import Engine, update

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import context
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.verifier import AllowAll
from devinsider_common.db.engine import create_service_engine
from devinsider_common.grpc.clients import create_channel, stub
from devinsider_common.grpc.server import RunningServer, ServiceRegistration, start_server
from devinsider_common.metrics import OUTBOX, OutboxCollector, iter_samples
from devinsider_common.outbox.tables import FAILED, PUBLISHED, outbox_messages
from devinsider_common.outbox.writer import OutboxWriter
from devinsider_common.settings import ServiceSettings
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.services import TEST_ISSUER, base_settings, bearer
from devinsider_common.testing.tcp_proxy import TcpProxy
from user_service.bootstrap import UserService, start
from user_service.settings import UserSettings

USER = "/devinsider.user.v1.UserService"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


def _scrape(port: int) -> Samples:
    status, body = _get(port, "/metrics")
    assert status == 200
    return {(name, frozenset(labels.items())): value for name, labels, value in iter_samples(body)}


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def _user_settings(tmp_path: Path, url: str, schema: str) -> UserSettings:
    values = base_settings(tmp_path, url, schema) | {"metrics_port": _free_port(), "access_cache_ttl_seconds": 0.0}
    return UserSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def user_service(tmp_path: Path, pg_schema: tuple[str, str]) -> Iterator[UserService]:
    service = start(_user_settings(tmp_path, *pg_schema))
    yield service
    service.stop(grace=0)


def _token(tmp_path: Path, subject: str) -> str:
    return issue_token(tmp_path / "keys", TEST_ISSUER, subject, roles=("isv",), email=f"{subject}@example.com")


def test_rpcs_are_counted_and_timed_by_method_and_code(user_service: UserService, tmp_path: Path) -> None:
    port = user_service.server.metrics_port
    assert port is not None
    before = _scrape(port)
    with grpc.insecure_channel(f"127.0.0.1:{user_service.port}") as channel:
        users = user_pb2_grpc.UserServiceStub(channel)
        auth = bearer(_token(tmp_path, "kc-metrics"))
        users.GetMe(user_pb2.GetMeRequest(), metadata=auth)
        users.GetMe(user_pb2.GetMeRequest(), metadata=auth)
        for metadata in ((), (("authorization", "Bearer not-a-jwt"),)):
            with pytest.raises(grpc.RpcError) as call:
                users.GetMe(user_pb2.GetMeRequest(), metadata=metadata)
            assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as call:
            users.GetUser(user_pb2.GetUserRequest(name="users/nobody"), metadata=auth)
        assert call.value.code() == grpc.StatusCode.NOT_FOUND
    after = _scrape(port)

    def delta(name: str, method: str, code: str, **extra: str) -> float:
        labels = {"grpc_type": "unary", "grpc_service": USER.lstrip("/"), "grpc_method": method, **extra}
        if code:
            labels["grpc_code"] = code
        return (_value(after, name, **labels) or 0.0) - (_value(before, name, **labels) or 0.0)

    total = "grpc_server_handled_total"
    assert delta("grpc_server_started_total", "GetMe", "") == 4
    assert delta(total, "GetMe", "OK") == 2
    assert delta(total, "GetMe", "UNAUTHENTICATED") == 2
    assert delta(total, "GetUser", "NOT_FOUND") == 1
    assert delta(total, "GetUser", "OK") == 0
    histogram = "grpc_server_handling_seconds"
    assert delta(f"{histogram}_count", "GetMe", "") == 4  # the histogram has no code label
    assert delta(f"{histogram}_bucket", "GetMe", "", le="+Inf") == 4
    assert delta(f"{histogram}_bucket", "GetUser", "", le="15.0") == 1
    assert 0 < delta(f"{histogram}_sum", "GetMe", "") < 15
    buckets = {dict(labels)["le"] for name, labels in after if name == f"{histogram}_bucket"}
    assert {"0.001", "0.1", "1.0", "+Inf"} <= buckets
    # Health and reflection are not ours: the interceptor passes them untouched, uncounted.
    assert not any(dict(labels).get("grpc_service", "").startswith("grpc.") for _, labels in after)


def _add_events(engine: Engine, count: int, age: timedelta = timedelta(0)) -> list[str]:
    with engine.begin() as connection:
        writer = OutboxWriter(connection, "user")
        ids = [
            writer.add("mail.exchange.direct", "mail_service_queue", user_pb2.User(name=f"users/{i}"), f"users/{i}")
            for i in range(count)
        ]
        connection.execute(
            update(outbox_messages)
            .where(outbox_messages.c.message_id.in_(ids))
            .values(created_at=datetime.now(UTC) - age)
        )
    return ids


def _mark(engine: Engine, ids: list[str], status: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(outbox_messages).where(outbox_messages.c.message_id.in_(ids)).values(status=status))


def test_outbox_backlog_and_relay_lag_follow_the_outbox(user_service: UserService) -> None:
    port = user_service.server.metrics_port
    assert port is not None
    backlog, lag = "devinsider_outbox_backlog", "devinsider_outbox_relay_lag_seconds"
    failed = "devinsider_outbox_failed"
    samples = _scrape(port)
    assert (_value(samples, backlog, service="user"), _value(samples, lag, service="user")) == (0, 0)
    assert _value(samples, failed, service="user") == 0

    old = _add_events(user_service.engine, 2, age=timedelta(minutes=2))
    recent = _add_events(user_service.engine, 3)
    samples = _scrape(port)
    assert _value(samples, backlog, service="user") == 5
    assert 120 <= (_value(samples, lag, service="user") or 0) < 180  # the oldest pending row's age

    _mark(user_service.engine, old, PUBLISHED)
    samples = _scrape(port)
    assert _value(samples, backlog, service="user") == 3
    assert 0 <= (_value(samples, lag, service="user") or -1) < 60

    _mark(user_service.engine, recent[:1], FAILED)
    _mark(user_service.engine, recent[1:], PUBLISHED)
    samples = _scrape(port)
    assert _value(samples, backlog, service="user") == 0
    assert _value(samples, lag, service="user") == 0
    assert _value(samples, failed, service="user") == 1


def test_a_database_error_yields_no_outbox_sample_never_a_failed_scrape() -> None:
    collector = OutboxCollector()
    unreachable = create_service_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", "nowhere")
    collector.add("down", unreachable)
    try:
        families = list(collector.collect())
    finally:
        unreachable.dispose()
    assert [family.name for family in families] == [
        "devinsider_outbox_backlog",
        "devinsider_outbox_relay_lag_seconds",
        "devinsider_outbox_failed",
    ]
    assert all(family.samples == [] for family in families)


@pytest.fixture
def behind_proxy(tmp_path: Path, pg_schema: tuple[str, str]) -> Iterator[tuple[UserService, TcpProxy]]:
    url, schema = pg_schema
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.start()
    service = start(_user_settings(tmp_path, url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"), schema))
    yield service, proxy
    service.stop(grace=0)
    proxy.cut()


def test_healthz_follows_the_database_and_metrics_stay_up(behind_proxy: tuple[UserService, TcpProxy]) -> None:
    service, proxy = behind_proxy
    port = service.server.metrics_port
    assert port is not None
    assert _get(port, "/healthz") == (200, "SERVING\n")
    proxy.cut()
    assert wait_for(lambda: _get(port, "/healthz")[0] == 503)
    assert _get(port, "/healthz") == (503, "NOT_SERVING\n")
    samples = _scrape(port)  # still answers, without the outbox samples it cannot read
    assert _value(samples, "devinsider_outbox_backlog", service="user") is None
    proxy.start()
    assert wait_for(lambda: _get(port, "/healthz")[0] == 200)
    assert _value(_scrape(port), "devinsider_outbox_backlog", service="user") == 0


def test_stopping_reports_not_serving_then_closes_the_endpoint(tmp_path: Path, pg_schema: tuple[str, str]) -> None:
    service = start(_user_settings(tmp_path, *pg_schema))
    port = service.server.metrics_port
    assert port is not None and _get(port, "/healthz")[0] == 200
    service.stop(grace=0)
    assert not service.server.reporter.serving  # what /healthz answers while in-flight calls drain
    with pytest.raises(urllib.error.URLError, match="refused"):
        _get(port, "/healthz")
    # Its outbox is no longer reported once it stopped.
    assert all(sample.labels["service"] != "user" for family in OUTBOX.collect() for sample in family.samples)


class _Downstream(user_pb2_grpc.UserServiceServicer):
    """Answers GetMe with the request id its handler sees (the interceptor's context variable)."""

    def __init__(self) -> None:
        self.metadata: list[dict[str, str]] = []

    def GetMe(self, request: user_pb2.GetMeRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        self.metadata.append({k: v for k, v in ctx.invocation_metadata() if isinstance(v, str)})
        return user_pb2.User(name=f"users/{context.current_request_id()}")


class _Middle(user_pb2_grpc.UserServiceServicer):
    """Calls the downstream service through the shared client factory, adding nothing by hand."""

    def __init__(self, target: str) -> None:
        self._downstream = stub(create_channel(target), user_pb2_grpc.UserServiceStub)

    def GetMe(self, request: user_pb2.GetMeRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        return self._downstream.GetMe(user_pb2.GetMeRequest())


def _start(tmp_path: Path, name: str, servicer: user_pb2_grpc.UserServiceServicer) -> RunningServer:
    settings = ServiceSettings(**base_settings(tmp_path, "", name) | {"service_name": name})  # type: ignore[arg-type]
    verifier = JwtVerifier(settings.auth)
    registration = ServiceRegistration(
        "devinsider.user.v1.UserService", user_pb2_grpc.add_UserServiceServicer_to_server, servicer
    )
    return start_server(settings, [registration], verifier, AllowAll(), probe=lambda: True)


def test_the_callers_request_id_reaches_the_downstream_service(tmp_path: Path) -> None:
    downstream = _Downstream()  # type: ignore[abstract]  # only GetMe is called
    last = _start(tmp_path, "rid-downstream", downstream)
    middle = _start(tmp_path, "rid-middle", _Middle(f"127.0.0.1:{last.port}"))  # type: ignore[abstract]
    try:
        with grpc.insecure_channel(f"127.0.0.1:{middle.port}") as channel:
            users = user_pb2_grpc.UserServiceStub(channel)
            auth = bearer(_token(tmp_path, "kc-rid"))
            reply, call = users.GetMe.with_call(
                user_pb2.GetMeRequest(), metadata=(*auth, ("x-request-id", "req-through-two-hops"))
            )
            assert reply.name == "users/req-through-two-hops"  # what the downstream handler saw
            assert downstream.metadata[-1]["x-request-id"] == "req-through-two-hops"
            assert ("x-request-id", "req-through-two-hops") in call.trailing_metadata()
            # Without one, the middle service makes one and the downstream service sees that same id.
            reply, call = users.GetMe.with_call(user_pb2.GetMeRequest(), metadata=auth)
            made = dict(call.trailing_metadata())["x-request-id"]
            assert isinstance(made, str)
            assert made and reply.name == f"users/{made}" and downstream.metadata[-1]["x-request-id"] == made
    finally:
        middle.stop(grace=0)
        last.stop(grace=0)

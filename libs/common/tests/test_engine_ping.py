"""Pooled PostgreSQL connections are pinged only after they sat idle (`IDLE_PING_SECONDS`): a busy service
pays no ping per call, and a connection that died while idle is replaced instead of failing a call."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from devinsider_common.db.engine import IDLE_PING_SECONDS, create_service_engine
from devinsider_common.testing import infra
from devinsider_common.testing.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(time, "monotonic", clock)  # the module reads time.monotonic at each call
    return clock


@pytest.fixture
def proxied(pg_schema: tuple[str, str]) -> Iterator[tuple[Engine, TcpProxy, list[Any]]]:
    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        engine = create_service_engine(infra.POSTGRES_URL.replace("127.0.0.1:5432", proxy.address), pg_schema[1])
        pings: list[Any] = []
        real_ping = engine.dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            pings.append(dbapi_connection)
            return real_ping(dbapi_connection)

        engine.dialect.do_ping = counted  # type: ignore[method-assign]
        yield engine, proxy, pings
        engine.dispose()


def _select_one(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT 1")).scalar_one())


def test_a_connection_in_use_a_moment_ago_is_not_pinged_and_an_idle_one_is(
    clock: Clock, proxied: tuple[Engine, TcpProxy, list[Any]]
) -> None:
    engine, _, pings = proxied
    assert _select_one(engine) == 1  # a new connection: no ping
    clock.now += IDLE_PING_SECONDS - 1
    assert _select_one(engine) == 1
    assert pings == []
    clock.now += IDLE_PING_SECONDS
    assert _select_one(engine) == 1
    assert len(pings) == 1


def test_a_connection_that_died_while_idle_is_replaced_not_failed(
    clock: Clock, proxied: tuple[Engine, TcpProxy, list[Any]]
) -> None:
    engine, proxy, pings = proxied
    assert _select_one(engine) == 1
    proxy.cut()  # the server restarts: the pooled connection is dead
    proxy.restore()
    clock.now += IDLE_PING_SECONDS
    assert _select_one(engine) == 1  # the ping failed, the pool connected again
    assert len(pings) == 1


def test_the_pool_is_sized_by_the_settings_and_hands_out_the_last_returned_connection(
    pg_schema: tuple[str, str],
) -> None:
    url, schema = pg_schema
    engine = create_service_engine(url, schema, pool_size=2, max_overflow=1)
    try:
        with engine.connect() as first, engine.connect() as second:
            first_id = id(first.connection.dbapi_connection)
            second_id = id(second.connection.dbapi_connection)
        with engine.connect() as again:  # LIFO: `first` went back last
            assert id(again.connection.dbapi_connection) == first_id != second_id
        pool: Any = engine.pool
        assert (pool.size(), pool._max_overflow) == (2, 1)
    finally:
        engine.dispose()

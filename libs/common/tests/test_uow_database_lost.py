"""The unit of work turns a lost database into UNAVAILABLE wherever it is lost: at the start, in the
middle of the transaction (the connection killed under it), at the commit; other errors pass."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from devinsider_common import errors
from devinsider_common.db.engine import create_service_engine
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.testing import infra
from devinsider_common.testing.tcp_proxy import TcpProxy


@pytest.fixture
def proxied_engine(pg_schema: tuple[str, str]) -> Iterator[tuple[Engine, TcpProxy]]:
    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        url = infra.POSTGRES_URL.replace("127.0.0.1:5432", proxy.address)
        engine = create_service_engine(url, pg_schema[1])
        yield engine, proxy
        engine.dispose()


def test_a_connection_killed_mid_transaction_is_unavailable_then_the_pool_recovers(
    proxied_engine: tuple[Engine, TcpProxy],
) -> None:
    engine, proxy = proxied_engine
    with pytest.raises(errors.Unavailable), SqlUnitOfWork(engine) as uow:
        uow.connection.execute(text("SELECT 1"))
        proxy.cut()  # the server "restarts" while the transaction is open
        uow.connection.execute(text("SELECT 1"))
    with pytest.raises(errors.Unavailable), SqlUnitOfWork(engine):
        pass  # while it is down: refused at the start
    proxy.restore()
    with SqlUnitOfWork(engine) as uow:  # the failure invalidated the dead pooled connections
        assert uow.connection.execute(text("SELECT 1")).scalar_one() == 1


def test_a_bad_statement_is_not_turned_into_unavailable(proxied_engine: tuple[Engine, TcpProxy]) -> None:
    engine, _ = proxied_engine
    with pytest.raises(ProgrammingError), SqlUnitOfWork(engine) as uow:
        uow.connection.execute(text("SELECT * FROM no_such_table"))

"""Outbox test helpers: tables created through the migration helpers, a RabbitMQ channel, a drain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pika
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Engine, func, select

from devinsider_common.db.engine import create_service_engine
from devinsider_common.outbox import create_outbox_tables, declare_topology, outbox_messages
from devinsider_common.testing import infra
from devinsider_common.testing.tcp_proxy import TcpProxy


def create_tables(engine: Engine) -> None:
    """Create the outbox tables the way a service's first migration does."""
    with engine.begin() as connection:
        create_outbox_tables(Operations(MigrationContext.configure(connection)))


@pytest.fixture(params=["postgresql", "sqlite"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    """The outbox tables on a fresh PostgreSQL schema, or on a SQLite file."""
    if request.param == "postgresql":
        engine: Engine = request.getfixturevalue("pg_engine")
    else:
        engine = create_service_engine(f"sqlite+pysqlite:///{tmp_path / 'svc.sqlite3'}", "svc")
    create_tables(engine)
    return engine


@pytest.fixture
def outbox_engine(pg_engine: Engine) -> Engine:
    create_tables(pg_engine)
    return pg_engine


@pytest.fixture
def channel(amqp_url: str) -> Iterator[Any]:
    """A plain pika channel on the test vhost, with the DevInsider topology declared."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    test_channel = connection.channel()
    declare_topology(test_channel)
    yield test_channel
    connection.close()


def count_by_status(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox_messages.c.status, func.count()).group_by(outbox_messages.c.status)
        ).all()
    return {status: count for status, count in rows}


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    tcp_proxy = TcpProxy((infra.AMQP_HOST, infra.AMQP_PORT))
    tcp_proxy.start()
    yield tcp_proxy
    tcp_proxy.cut()


def via_proxy(amqp_url: str, proxy: TcpProxy) -> str:
    vhost = amqp_url.rsplit("/", 1)[1]
    return f"amqp://guest:guest@127.0.0.1:{proxy.port}/{vhost}"

"""Writer semantics (same transaction as the change) and the embedded SQLite mode with a real relay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, insert, select

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.db.engine import create_service_engine
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox import OutboxRelay, OutboxWriter, from_json, start_relay_thread
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.outbox.topology import USER_DELETED, USER_UPDATES
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import bind_test_queue, drain

from .conftest import count_by_status, create_tables

things = Table("things", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(50)))


def test_rollback_of_the_business_transaction_leaves_no_outbox_row(outbox_engine: Engine) -> None:
    things.create(outbox_engine)

    def failing_use_case() -> None:
        with SqlUnitOfWork(outbox_engine) as uow:
            uow.connection.execute(insert(things).values(name="x"))
            OutboxWriter(uow.connection, "user").add(USER_UPDATES, USER_DELETED, UserDeleted(name="a"), "a")
            raise RuntimeError("the use case fails after writing")

    with pytest.raises(RuntimeError):
        failing_use_case()
    with outbox_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(things)).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(outbox_messages)).scalar_one() == 0

    with SqlUnitOfWork(outbox_engine) as uow:  # and a commit keeps both
        uow.connection.execute(insert(things).values(name="y"))
        OutboxWriter(uow.connection, "user").add(USER_UPDATES, USER_DELETED, UserDeleted(name="b"), "b")
        uow.commit()
    assert count_by_status(outbox_engine) == {"pending": 1}


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = create_service_engine(f"sqlite+pysqlite:///{tmp_path / 'user.sqlite3'}", "user")
    create_tables(engine)
    return engine


def test_sqlite_keeps_events_without_a_broker(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as connection:
        OutboxWriter(connection, "user").add(USER_UPDATES, USER_DELETED, UserDeleted(name="a"), "a")
    assert start_relay_thread(sqlite_engine, BrokerSettings(amqp_url="")) is None
    assert count_by_status(sqlite_engine) == {"pending": 1}


@pytest.mark.rabbitmq
def test_sqlite_writer_and_relay(sqlite_engine: Engine, amqp_url: str, channel: Any) -> None:
    queue = bind_test_queue(channel, USER_UPDATES, "user.#")
    ids = []
    for index in range(20):
        with sqlite_engine.begin() as connection:
            writer = OutboxWriter(connection, "user")
            ids.append(writer.add(USER_UPDATES, USER_DELETED, UserDeleted(name=f"users/{index}"), "x"))
    publisher = AmqpPublisher(amqp_url)
    relay = OutboxRelay(sqlite_engine, publisher, batch_size=8)
    assert relay.relay_once() == 8
    assert relay.backlog() == 12
    assert relay.relay_once() + relay.relay_once() + relay.relay_once() == 12
    publisher.close()
    received = drain(channel, queue)
    assert [message.properties.message_id for message in received] == ids  # id order within one relay
    assert from_json(received[0].body).source == "user"
    assert count_by_status(sqlite_engine) == {"published": 20}


@pytest.mark.rabbitmq
def test_relay_thread_publishes_in_the_background(sqlite_engine: Engine, amqp_url: str, channel: Any) -> None:
    queue = bind_test_queue(channel, USER_UPDATES, "user.#")
    handle = start_relay_thread(sqlite_engine, BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05))
    assert handle is not None
    try:
        with sqlite_engine.begin() as connection:
            message_id = OutboxWriter(connection, "user").add(USER_UPDATES, USER_DELETED, UserDeleted(), "x")
        for _ in range(100):
            if handle.relay.backlog() == 0:
                break
            handle.loop.stop_event.wait(0.05)
    finally:
        handle.stop()
    assert not handle.loop.thread.is_alive()
    assert [message.properties.message_id for message in drain(channel, queue)] == [message_id]

"""The outbox relay against real PostgreSQL and RabbitMQ: outages, exactly-once receipt, replicas, failures."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Engine, select

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.db.engine import create_service_engine
from devinsider_common.outbox import AmqpPublisher, OutboxRelay, OutboxWriter, from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.outbox.topology import USER_DELETED, USER_UPDATES
from devinsider_common.testing.amqp import bind_test_queue, closed_port_url, drain
from devinsider_common.testing.tcp_proxy import TcpProxy

from .conftest import count_by_status, via_proxy

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


def write_events(engine: Engine, count: int, exchange: str = USER_UPDATES) -> list[str]:
    """`count` events, each in its own business transaction."""
    ids = []
    for index in range(count):
        with engine.begin() as connection:
            event = UserDeleted(name=f"users/{index}", subject=f"sub-{index}")
            ids.append(OutboxWriter(connection, "user").add(exchange, USER_DELETED, event, f"users/{index}"))
    return ids


def relay_all(relay: OutboxRelay) -> int:
    total = 0
    while published := relay.relay_once():
        total += published
    return total


def test_events_survive_an_outage_and_arrive_exactly_once(outbox_engine: Engine, amqp_url: str, channel: Any) -> None:
    down = AmqpPublisher(closed_port_url(amqp_url))
    relay_down = OutboxRelay(outbox_engine, down, batch_size=500, backoff_base_seconds=0.0)
    ids = write_events(outbox_engine, 200)  # the writes never touch RabbitMQ

    assert relay_down.relay_once() == 0
    assert relay_down.relay_once() == 0
    with outbox_engine.connect() as connection:
        rows = connection.execute(select(outbox_messages.c.status, outbox_messages.c.attempts)).all()
    assert len(rows) == 200
    assert {(status, attempts) for status, attempts in rows} == {("pending", 2)}  # pending, never failed
    assert relay_down.backlog() == 200

    queue = bind_test_queue(channel, USER_UPDATES, "user.#")
    up = AmqpPublisher(amqp_url)
    relay_up = OutboxRelay(outbox_engine, up, batch_size=64, backoff_base_seconds=0.0)
    assert relay_all(relay_up) == 200
    assert relay_up.relay_once() == 0  # nothing is published twice
    up.close()

    received = drain(channel, queue)
    assert len(received) == 200
    assert {message.properties.message_id for message in received} == set(ids)
    for message in received:
        assert message.properties.delivery_mode == 2
        assert message.properties.type == "devinsider.user.v1.UserDeleted"
        assert message.properties.content_type == "application/json"
        envelope = from_json(message.body)
        assert envelope.event_id == message.properties.message_id
        event = unpack_payload(envelope, UserDeleted)
        assert envelope.external_id == event.name
    assert count_by_status(outbox_engine) == {"published": 200}
    # The seed's durable Odoo queue got them too (user_updates_exchange, binding `user.*`).
    assert channel.queue_declare(queue="odoo_user_queue", passive=True).method.message_count == 200


def test_two_relays_on_one_table_publish_each_row_once(
    outbox_engine: Engine, pg_schema: tuple[str, str], amqp_url: str, channel: Any
) -> None:
    queue = bind_test_queue(channel, USER_UPDATES, "user.#")
    ids = write_events(outbox_engine, 300)
    published: list[int] = []

    def replica() -> None:
        engine = create_service_engine(*pg_schema)
        publisher = AmqpPublisher(amqp_url)
        published.append(relay_all(OutboxRelay(engine, publisher, batch_size=10)))
        publisher.close()
        engine.dispose()

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(published) == 300
    received = drain(channel, queue)
    assert sorted(message.properties.message_id for message in received) == sorted(ids)
    assert count_by_status(outbox_engine) == {"published": 300}


@pytest.mark.parametrize("exchange", ["not.declared.exchange", "test.unbound.exchange"])
def test_a_refused_message_ends_failed_and_others_still_go(
    outbox_engine: Engine, amqp_url: str, channel: Any, exchange: str
) -> None:
    # One exchange does not exist (channel closed 404); the other exists with no queue (unroutable).
    channel.exchange_declare(exchange="test.unbound.exchange", exchange_type="direct", durable=True)
    queue = bind_test_queue(channel, USER_UPDATES, "user.#")
    [bad] = write_events(outbox_engine, 1, exchange=exchange)
    [good] = write_events(outbox_engine, 1)
    publisher = AmqpPublisher(amqp_url)
    relay = OutboxRelay(outbox_engine, publisher, max_attempts=3, backoff_base_seconds=0.0)

    assert relay.relay_once() == 1  # the good row is not held back by the bad one
    assert relay.relay_once() == 0
    assert relay.relay_once() == 0
    assert relay.relay_once() == 0  # a failed row is no longer tried
    publisher.close()

    with outbox_engine.connect() as connection:
        row = connection.execute(select(outbox_messages).where(outbox_messages.c.message_id == bad)).one()
    assert (row.status, row.attempts, row.published_at) == ("failed", 3, None)
    assert "MessageRejectedError" in row.last_error
    assert [message.properties.message_id for message in drain(channel, queue)] == [good]


def test_a_lost_connection_is_dropped_and_reopened(
    outbox_engine: Engine, amqp_url: str, channel: Any, proxy: TcpProxy
) -> None:
    queue = bind_test_queue(channel, USER_UPDATES, "user.#")
    publisher = AmqpPublisher(via_proxy(amqp_url, proxy))
    relay = OutboxRelay(outbox_engine, publisher, backoff_base_seconds=0.0)
    first = write_events(outbox_engine, 5)
    assert relay.relay_once() == 5

    proxy.cut()  # the broker "goes away" under an open connection
    second = write_events(outbox_engine, 5)
    assert relay.relay_once() == 0
    assert relay.relay_once() == 0  # reconnecting fails too while it is down
    assert count_by_status(outbox_engine) == {"published": 5, "pending": 5}

    proxy.start()
    assert relay.relay_once() == 5  # the next call reconnected by itself
    publisher.close()
    received = drain(channel, queue)
    assert sorted(message.properties.message_id for message in received) == sorted(first + second)

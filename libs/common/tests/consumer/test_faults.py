"""Fault tests of the consumer runtime with counts: a consumer process killed in the middle of a message
(its effect written, not committed) loses nothing and applies nothing twice once another process takes
over; a message delivered twice is applied once; the broker going away while events are produced
(through the outbox and its relay) and consumed loses nothing either. Effects, outbox and inbox are real
PostgreSQL, the broker is the real RabbitMQ (a fresh vhost, reached through a TCP proxy to cut it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pika
import pika.exceptions
import pytest
import sqlalchemy as sa

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.db.engine import create_service_engine
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import build_envelope, to_json
from devinsider_common.outbox.relay import start_relay_thread
from devinsider_common.outbox.tables import define_outbox_tables
from devinsider_common.outbox.topology import UNLOCK
from devinsider_common.outbox.writer import OutboxWriter
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

PROCESS = Path(__file__).with_name("consumer_process.py")
MESSAGES = 20


@pytest.fixture
def effects_engine(pg_schema: tuple[str, str]) -> Iterator[sa.Engine]:
    url, schema = pg_schema
    engine = create_service_engine(url, schema)
    metadata = sa.MetaData()
    define_outbox_tables(metadata)  # the inbox table
    sa.Table("effects", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("subject", sa.String(64)))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def consumer_process(
    amqp_url: str, pg_schema: tuple[str, str], tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(hang_on: str = "", amqp: str = "") -> subprocess.Popen[bytes]:
        url, schema = pg_schema
        command = [sys.executable, str(PROCESS), amqp or amqp_url, url, schema, str(tmp_path / "marker")]
        process = subprocess.Popen([*command, "--hang-on", hang_on], stdout=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def publish(amqp_url: str, subjects: list[str], message_id: str | None = None) -> list[str]:
    publisher = AmqpPublisher(amqp_url)
    ids = []
    try:
        for subject in subjects:
            envelope = build_envelope(UserDeleted(subject=subject), source="user", external_id=f"users/{subject}")
            ids.append(message_id or envelope.event_id)
            publisher.publish(UNLOCK, "", to_json(envelope), ids[-1], envelope.event_type)
    finally:
        publisher.close()
    return ids


def consuming(amqp_url: str, queue: str = "faults.effects") -> bool:
    """True once a consumer takes from `queue` (declared and bound before it starts consuming)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return bool(connection.channel().queue_declare(queue=queue, passive=True).method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker:  # 404: not declared yet
        return False
    finally:
        if connection.is_open:
            connection.close()


def applied(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT subject, count(*) FROM effects GROUP BY subject")).all()
    return {subject: int(count) for subject, count in rows}


def test_a_consumer_killed_mid_message_loses_nothing_and_applies_nothing_twice(
    amqp_url: str, effects_engine: sa.Engine, consumer_process: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    subjects = [f"s{i:02d}" for i in range(MESSAGES)]
    first = consumer_process(hang_on="s07")
    assert wait_for(lambda: consuming(amqp_url), timeout=30), "the consumer is consuming"
    publish(amqp_url, subjects)
    assert wait_for((tmp_path / "marker").exists, timeout=30), "the first consumer holds s07, uncommitted"
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    before_takeover = applied(effects_engine)
    assert "s07" not in before_takeover  # its transaction died with the process

    consumer_process()  # another replica takes the unacknowledged messages
    assert wait_for(lambda: len(applied(effects_engine)) == MESSAGES, timeout=30), "every message applied"
    time.sleep(1.0)  # nothing more arrives
    counts = applied(effects_engine)
    produced, effects, lost = MESSAGES, sum(counts.values()), MESSAGES - len(counts)
    assert (produced, effects, lost) == (MESSAGES, MESSAGES, 0), counts
    assert set(counts.values()) == {1}


def test_a_message_delivered_twice_is_applied_once(
    amqp_url: str, effects_engine: sa.Engine, consumer_process: Callable[..., subprocess.Popen[bytes]]
) -> None:
    consumer_process()
    assert wait_for(lambda: consuming(amqp_url), timeout=30), "the consumer is consuming"
    (message_id,) = publish(amqp_url, ["twice"])
    publish(amqp_url, ["twice"], message_id=message_id)  # the relay republished it after a crash
    publish(amqp_url, ["after"])
    assert wait_for(lambda: "after" in applied(effects_engine), timeout=30), "the later message applied"
    assert applied(effects_engine) == {"twice": 1, "after": 1}


def test_the_broker_away_while_events_are_produced_and_consumed_loses_nothing(
    amqp_url: str, effects_engine: sa.Engine, consumer_process: Callable[..., subprocess.Popen[bytes]]
) -> None:
    parts = urlsplit(amqp_url)
    with TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5672)) as proxy:
        proxied = urlunsplit(parts._replace(netloc=f"{parts.username}:{parts.password}@{proxy.address}"))
        consumer_process(amqp=proxied)
        assert wait_for(lambda: consuming(amqp_url), timeout=30), "the consumer is consuming"
        relay = start_relay_thread(
            effects_engine, BrokerSettings(amqp_url=proxied, relay_interval_seconds=0.05, relay_backoff_max_seconds=0.5)
        )
        assert relay is not None
        try:
            produce(effects_engine, [f"a{i:02d}" for i in range(10)])
            assert wait_for(lambda: len(applied(effects_engine)) == 10, timeout=30), "the first ten applied"
            proxy.cut()  # producer and consumer both lose the broker
            produce(effects_engine, [f"b{i:02d}" for i in range(10)])  # committed while it is away
            time.sleep(1.0)
            assert len(applied(effects_engine)) == 10  # nothing could travel meanwhile
            proxy.restore()
            assert wait_for(lambda: len(applied(effects_engine)) == 20, timeout=30), (
                "everything applied after the broker came back"
            )
        finally:
            relay.stop()
    counts = applied(effects_engine)
    produced, effects, lost = 20, sum(counts.values()), 20 - len(counts)
    assert (produced, effects, lost) == (20, 20, 0), counts
    with effects_engine.connect() as connection:
        pending = connection.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE status <> 'published'"))
        assert pending.scalar_one() == 0


def produce(engine: sa.Engine, subjects: list[str]) -> None:
    """Events committed to the outbox, as a service's use case writes them."""
    with engine.begin() as connection:
        writer = OutboxWriter(connection, "user")
        for subject in subjects:
            writer.add(UNLOCK, "", UserDeleted(subject=subject), external_id=f"users/{subject}")

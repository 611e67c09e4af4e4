"""The consumer runtime on a real RabbitMQ (a fresh vhost per test): acknowledged after the handler,
deduplicated through the inbox, retried with a delay, dead-lettered when it keeps failing or cannot be
read, stopped without losing the message in hand, and reconnected after the broker goes away."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pika
import pytest

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.consumer import (
    ConsumerQueue,
    ConsumerThread,
    Delivery,
    PermanentFailure,
    Subscription,
    start_consumer_thread,
)
from devinsider_common.metrics import REGISTRY
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import build_envelope, to_json, unpack_payload
from devinsider_common.outbox.topology import UNLOCK, Binding
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import drain
from devinsider_common.testing.memory import MemoryInbox
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.tcp_proxy import TcpProxy

pytestmark = pytest.mark.rabbitmq

QUEUE = ConsumerQueue("test.unlocks", (Binding(UNLOCK, "test.unlocks", ""),))
MAX_ATTEMPTS = 3


def settings(amqp_url: str) -> BrokerSettings:
    return BrokerSettings(
        amqp_url=amqp_url,
        consumer_prefetch=5,
        consumer_max_attempts=MAX_ATTEMPTS,
        consumer_retry_delay_seconds=0.2,
        consumer_backoff_max_seconds=0.5,
    )


def publish(amqp_url: str, subject: str, body: str | None = None, message_id: str | None = None) -> str:
    envelope = build_envelope(UserDeleted(subject=subject), source="user", external_id=f"users/{subject}")
    publisher = AmqpPublisher(amqp_url)
    try:
        message_id = message_id or envelope.event_id
        publisher.publish(UNLOCK, "", body if body is not None else to_json(envelope), message_id, envelope.event_type)
    finally:
        publisher.close()
    return message_id


def queue_messages(amqp_url: str, queue: str) -> list[tuple[str, bytes]]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return [(m.properties.message_id, m.body) for m in drain(connection.channel(), queue)]
    finally:
        connection.close()


def dead_letters(amqp_url: str) -> list[str]:
    """The message ids that reached the dead-letter queue (waits for at least one)."""
    dead: list[str] = []

    def arrived() -> bool:
        dead.extend(message_id for message_id, _ in queue_messages(amqp_url, QUEUE.dead_letter_queue))
        return bool(dead)

    assert wait_for(arrived, timeout=15), "a message dead-lettered"
    return dead


def outcome(value: str) -> float:
    sample = REGISTRY.get_sample_value("devinsider_consumer_messages_total", {"queue": QUEUE.name, "outcome": value})
    return sample or 0.0


class Recorder:
    """A handler applying each event once (an inbox in memory), failing as told."""

    def __init__(self, fail: Callable[[Delivery], Exception | None] = lambda _: None) -> None:
        self.inbox = MemoryInbox({})
        self.applied: list[str] = []
        self.attempts: list[int] = []
        self._fail = fail
        self._lock = threading.Lock()

    def __call__(self, delivery: Delivery) -> bool:
        with self._lock:
            self.attempts.append(delivery.attempt)
            error = self._fail(delivery)
            if error is not None:
                raise error
            if not self.inbox.first_time("test", delivery.message_id):
                return False
            self.applied.append(unpack_payload(delivery.envelope, UserDeleted).subject)
            return True


@pytest.fixture
def running() -> Iterator[Callable[[str, Recorder], ConsumerThread]]:
    started: list[ConsumerThread] = []

    def start(amqp_url: str, handler: Recorder) -> ConsumerThread:
        consumer = start_consumer_thread("test", settings(amqp_url), [Subscription(QUEUE, handler)])
        assert consumer is not None
        started.append(consumer)
        assert wait_for(consumer.consumer.connected.is_set, timeout=15), "the consumer connected"
        return consumer

    yield start
    for consumer in started:
        consumer.stop()


def test_each_event_is_handled_then_acknowledged(amqp_url: str, running: Callable[..., ConsumerThread]) -> None:
    handler = Recorder()
    running(amqp_url, handler)
    before = outcome("handled")
    for subject in ("a", "b", "c"):
        publish(amqp_url, subject)
    assert wait_for(lambda: len(handler.applied) == 3, timeout=15), "three events handled"
    assert handler.applied == ["a", "b", "c"] and handler.attempts == [1, 1, 1]
    assert wait_for(lambda: outcome("handled") - before == 3, timeout=15), "three acknowledged"
    assert queue_messages(amqp_url, QUEUE.name) == []
    assert queue_messages(amqp_url, QUEUE.dead_letter_queue) == []


def test_a_message_delivered_twice_is_applied_once(amqp_url: str, running: Callable[..., ConsumerThread]) -> None:
    handler = Recorder()
    running(amqp_url, handler)
    before = outcome("duplicate")
    message_id = publish(amqp_url, "twice")
    publish(amqp_url, "twice", message_id=message_id)  # the relay republished it after a crash
    assert wait_for(lambda: len(handler.attempts) == 2, timeout=15), "both deliveries seen"
    assert handler.applied == ["twice"]
    assert wait_for(lambda: outcome("duplicate") - before == 1, timeout=15), "the second counted as a duplicate"


def test_a_failing_handler_gets_the_message_again_after_a_delay(
    amqp_url: str, running: Callable[..., ConsumerThread]
) -> None:
    handler = Recorder(fail=lambda d: RuntimeError("database down") if d.attempt < 3 else None)
    running(amqp_url, handler)
    started = time.monotonic()
    publish(amqp_url, "flaky")
    assert wait_for(lambda: handler.applied == ["flaky"], timeout=15), "applied on the third delivery"
    assert handler.attempts == [1, 2, 3]
    assert time.monotonic() - started >= 0.4  # two waits in the retry queue (0.2 s each)
    assert queue_messages(amqp_url, QUEUE.dead_letter_queue) == []


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(
    amqp_url: str, running: Callable[..., ConsumerThread]
) -> None:
    handler = Recorder(fail=lambda _: RuntimeError("bug"))
    running(amqp_url, handler)
    message_id = publish(amqp_url, "poisoned")
    assert wait_for(lambda: len(handler.attempts) == MAX_ATTEMPTS, timeout=15), "every attempt made"
    assert dead_letters(amqp_url) == [message_id] and handler.applied == []
    time.sleep(0.5)  # no further delivery once dead-lettered
    assert handler.attempts == [1, 2, 3]


@pytest.mark.parametrize(
    ("body", "fail"),
    [("not an event envelope", None), (None, PermanentFailure("an event it cannot interpret"))],
    ids=["undecodable", "permanent"],
)
def test_an_unusable_message_is_dead_lettered_at_once(
    amqp_url: str, running: Callable[..., ConsumerThread], body: str | None, fail: Exception | None
) -> None:
    handler = Recorder(fail=lambda _: fail)
    running(amqp_url, handler)
    message_id = publish(amqp_url, "x", body=body)
    assert dead_letters(amqp_url) == [message_id]
    assert handler.attempts == ([] if body is not None else [1])


def test_stopping_lets_the_message_in_hand_finish_and_be_acknowledged(
    amqp_url: str, running: Callable[..., ConsumerThread]
) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(_: Delivery) -> None:
        entered.set()
        release.wait(5)
        return None

    handler = Recorder(fail=slow)
    consumer = running(amqp_url, handler)
    publish(amqp_url, "in-hand")
    assert entered.wait(10)
    stopping = threading.Thread(target=consumer.stop)
    stopping.start()
    time.sleep(0.3)
    assert handler.applied == []  # still in the handler: the stop waits for it
    release.set()
    stopping.join(10)
    assert not consumer.loop.thread.is_alive()
    assert handler.applied == ["in-hand"]
    assert queue_messages(amqp_url, QUEUE.name) == []  # acknowledged: not given to the next consumer


def test_the_consumer_reconnects_and_loses_nothing_while_the_broker_is_away(
    amqp_url: str, running: Callable[..., ConsumerThread]
) -> None:
    parts = urlsplit(amqp_url)
    with TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5672)) as proxy:
        proxied = urlunsplit(parts._replace(netloc=f"{parts.username}:{parts.password}@{proxy.address}"))
        handler = Recorder()
        consumer = running(proxied, handler)
        publish(amqp_url, "before")
        assert wait_for(lambda: handler.applied == ["before"], timeout=15), "handled before the cut"
        proxy.cut()
        assert wait_for(lambda: not consumer.consumer.connected.is_set(), timeout=15), "the consumer noticed"
        for subject in ("during-1", "during-2"):
            publish(amqp_url, subject)  # straight to the broker: produced while the consumer is cut off
        proxy.restore()
        assert wait_for(lambda: len(handler.applied) == 3, timeout=15), "handled after reconnecting"
    assert sorted(handler.applied) == ["before", "during-1", "during-2"]

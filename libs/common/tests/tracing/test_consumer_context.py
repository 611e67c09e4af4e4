"""A consumer takes the trace context from the message's headers: the handler runs in a CONSUMER span, child of
the publish that sent it (on a real RabbitMQ, a fresh vhost per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanContext, SpanKind, StatusCode

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.consumer import ConsumerQueue, Delivery, PermanentFailure, Subscription, start_consumer_thread
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import build_envelope, to_json
from devinsider_common.outbox.topology import UNLOCK, Binding
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.polling import wait_for

from .conftest import Spans

pytestmark = pytest.mark.rabbitmq

QUEUE = ConsumerQueue("tracing.unlocks", (Binding(UNLOCK, "tracing.unlocks", ""),))
PUBLISH_CONTEXT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Handler:
    """Remembers the span each delivery was handled in; refuses subjects starting with `bad`."""

    def __init__(self) -> None:
        self.contexts: list[SpanContext] = []

    def __call__(self, delivery: Delivery) -> bool:
        self.contexts.append(trace.get_current_span().get_span_context())
        if delivery.payload(UserDeleted).subject.startswith("bad"):
            raise PermanentFailure("cannot apply this one")
        return True


@pytest.fixture
def handler(amqp_url: str) -> Iterator[Handler]:
    handler = Handler()
    settings = BrokerSettings(amqp_url=amqp_url, consumer_retry_delay_seconds=0.2, consumer_backoff_max_seconds=0.5)
    consumer = start_consumer_thread("tracing", settings, [Subscription(QUEUE, handler)])
    assert consumer is not None and consumer.consumer.connected.wait(10)
    yield handler
    consumer.stop()


def _publish(amqp_url: str, subject: str, headers: dict[str, str] | None) -> str:
    envelope = build_envelope(UserDeleted(subject=subject), source="user", external_id=f"users/{subject}")
    publisher = AmqpPublisher(amqp_url)
    try:
        publisher.publish(UNLOCK, "", to_json(envelope), envelope.event_id, envelope.event_type, headers=headers)
    finally:
        publisher.close()
    return envelope.event_id


def test_the_handler_runs_in_a_child_of_the_publish(spans: Spans, handler: Handler, amqp_url: str) -> None:
    message_id = _publish(amqp_url, "s1", {"traceparent": PUBLISH_CONTEXT})
    assert wait_for(lambda: len(spans.named("process tracing.unlocks")) == 1, timeout=10)
    (consumed,) = spans.named("process tracing.unlocks")
    assert consumed.kind == SpanKind.CONSUMER
    assert consumed.parent is not None and consumed.parent.is_remote
    assert f"{consumed.parent.trace_id:032x}" == PUBLISH_CONTEXT.split("-")[1]
    assert f"{consumed.parent.span_id:016x}" == PUBLISH_CONTEXT.split("-")[2]
    assert consumed.attributes is not None
    assert consumed.attributes["messaging.message.id"] == message_id
    assert consumed.attributes["messaging.destination.name"] == QUEUE.name
    assert consumed.attributes["devinsider.event_type"] == "devinsider.user.v1.UserDeleted"
    assert consumed.status.status_code == StatusCode.UNSET
    assert consumed.context is not None
    assert [c.span_id for c in handler.contexts] == [consumed.context.span_id]  # the handler ran inside it


def test_a_message_without_context_starts_a_trace(spans: Spans, handler: Handler, amqp_url: str) -> None:
    _publish(amqp_url, "s2", None)
    assert wait_for(lambda: len(spans.named("process tracing.unlocks")) == 1, timeout=10)
    (consumed,) = spans.named("process tracing.unlocks")
    assert consumed.parent is None


def test_a_failing_handler_fails_its_span(spans: Spans, handler: Handler, amqp_url: str) -> None:
    _publish(amqp_url, "bad-1", {"traceparent": PUBLISH_CONTEXT})
    assert wait_for(lambda: len(spans.named("process tracing.unlocks")) == 1, timeout=10)
    (consumed,) = spans.named("process tracing.unlocks")
    assert consumed.status.status_code == StatusCode.ERROR
    assert consumed.status.description == "PermanentFailure: cannot apply this one"

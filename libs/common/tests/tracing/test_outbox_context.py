"""The trace context goes through the outbox: stored with the row in the writing transaction, restored by the
relay as the parent of its "outbox publish" span, whose own context is what the message carries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from opentelemetry.trace import SpanContext, SpanKind, StatusCode
from sqlalchemy import Engine, select

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common import tracing
from devinsider_common.db.engine import create_service_engine
from devinsider_common.outbox import OutboxRelay, OutboxWriter, create_outbox_tables, outbox_messages
from devinsider_common.outbox.amqp import MessageRejectedError
from devinsider_common.outbox.topology import USER_DELETED, USER_UPDATES

from .conftest import Spans


class RecordingPublisher:
    """Publishes nowhere; remembers the headers of each message (or refuses every message)."""

    def __init__(self, refuse: bool = False) -> None:
        self.headers: list[dict[str, str] | None] = []
        self.refuse = refuse

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: str | bytes,
        message_id: str,
        event_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        if self.refuse:
            raise MessageRejectedError("unroutable")
        self.headers.append(headers)

    def keepalive(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = create_service_engine(f"sqlite+pysqlite:///{tmp_path / 'svc.sqlite3'}", "svc")
    with engine.begin() as connection:
        create_outbox_tables(Operations(MigrationContext.configure(connection)))
    return engine


def _write(engine: Engine) -> None:
    with engine.begin() as connection:
        OutboxWriter(connection, "user").add(USER_UPDATES, USER_DELETED, UserDeleted(subject="s1"), "users/1")


def _stored(engine: Engine) -> str | None:
    with engine.connect() as connection:
        value: str | None = connection.execute(select(outbox_messages.c.headers)).scalar_one()
    return value


def _traceparent(context: SpanContext) -> str:
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def test_the_row_keeps_the_request_context_and_the_publish_is_its_child(spans: Spans, engine: Engine) -> None:
    with spans.tracer.start_as_current_span("request", kind=SpanKind.SERVER) as request:
        _write(engine)
    context = request.get_span_context()
    stored = json.loads(_stored(engine) or "{}")
    assert stored == {"traceparent": _traceparent(context)}

    publisher = RecordingPublisher()
    assert OutboxRelay(engine, publisher).relay_once() == 1

    (publish,) = spans.named("outbox publish")
    assert publish.kind == SpanKind.PRODUCER
    assert publish.parent is not None and publish.parent.span_id == context.span_id
    assert publish.context.trace_id == context.trace_id
    assert publish.attributes is not None
    assert publish.attributes["messaging.destination.name"] == USER_UPDATES
    assert publish.attributes["messaging.rabbitmq.destination.routing_key"] == USER_DELETED
    assert publish.attributes["devinsider.event_type"] == "devinsider.user.v1.UserDeleted"
    # The message carries the publish span's context: a consumer's span is the publish's child.
    assert publisher.headers == [{"traceparent": _traceparent(publish.context)}]


def test_an_untraced_write_stores_nothing_and_its_publish_starts_a_trace(spans: Spans, engine: Engine) -> None:
    _write(engine)  # no span: a job, a script
    assert _stored(engine) is None
    publisher = RecordingPublisher()
    OutboxRelay(engine, publisher).relay_once()
    (publish,) = spans.named("outbox publish")
    assert publish.parent is None
    assert publisher.headers == [{"traceparent": _traceparent(publish.context)}]


def test_a_refused_publish_is_a_failed_span(spans: Spans, engine: Engine) -> None:
    with spans.tracer.start_as_current_span("request"):
        _write(engine)
    OutboxRelay(engine, RecordingPublisher(refuse=True)).relay_once()
    (publish,) = spans.named("outbox publish")
    assert publish.status.status_code == StatusCode.ERROR
    assert [event.name for event in publish.events] == ["exception"]


def test_the_relays_polling_is_not_traced(spans: Spans, engine: Engine) -> None:
    relay = OutboxRelay(engine, RecordingPublisher())
    for _ in range(3):
        relay.relay_once()
    tracing.instrument_engine(engine)  # even on an instrumented engine, a claim outside a trace is no trace
    relay.relay_once()
    assert spans.finished() == []


def test_with_tracing_off_the_stored_context_is_published_as_it_is(spans: Spans, engine: Engine) -> None:
    with spans.tracer.start_as_current_span("request"):
        _write(engine)
    stored = json.loads(_stored(engine) or "{}")
    tracing.deactivate()  # e.g. the process restarted without OTEL_*: the rows written before keep theirs
    publisher = RecordingPublisher()
    OutboxRelay(engine, publisher).relay_once()
    assert publisher.headers == [stored]
    assert spans.named("outbox publish") == []


def test_unreadable_stored_headers_are_ignored(spans: Spans, engine: Engine) -> None:
    _write(engine)
    with engine.begin() as connection:
        connection.execute(outbox_messages.update().values(headers="not json"))
    publisher = RecordingPublisher()
    assert OutboxRelay(engine, publisher).relay_once() == 1
    (publish,) = spans.named("outbox publish")
    assert publish.parent is None

"""Published outbox rows and old inbox records are pruned; pending and failed rows never are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select

from devinsider_common.outbox import OutboxRelay
from devinsider_common.outbox.retention import prune
from devinsider_common.outbox.tables import FAILED, PENDING, PUBLISHED, inbox_messages, outbox_messages

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def _outbox_row(message_id: str, status: str, age: timedelta) -> dict[str, object]:
    at = NOW - age
    return {
        "message_id": message_id,
        "exchange": "x",
        "routing_key": "k",
        "event_type": "T",
        "body": "{}",
        "status": status,
        "available_at": at,
        "created_at": at,
        "published_at": at if status == PUBLISHED else None,
    }


def test_only_published_rows_and_inbox_records_past_the_retention_go(any_engine: Engine) -> None:
    engine = any_engine
    rows = [
        _outbox_row("old-published", PUBLISHED, WEEK + timedelta(hours=1)),
        _outbox_row("new-published", PUBLISHED, WEEK - timedelta(hours=1)),
        _outbox_row("old-pending", PENDING, WEEK * 3),
        _outbox_row("old-failed", FAILED, WEEK * 3),
    ] + [_outbox_row(f"bulk-{i}", PUBLISHED, WEEK * 2) for i in range(25)]
    inbox = [
        {"consumer": "c", "message_id": "old", "received_at": NOW - WEEK * 2},
        {"consumer": "c", "message_id": "new", "received_at": NOW - timedelta(days=1)},
    ]
    with engine.begin() as connection:
        connection.execute(insert(outbox_messages), rows)
        connection.execute(insert(inbox_messages), inbox)

    assert prune(engine, WEEK, now=NOW, batch=10) == (26, 1)  # several batches of 10

    with engine.connect() as connection:
        kept = set(connection.execute(select(outbox_messages.c.message_id)).scalars())
        kept_inbox = set(connection.execute(select(inbox_messages.c.message_id)).scalars())
    assert kept == {"new-published", "old-pending", "old-failed"}
    assert kept_inbox == {"new"}
    assert prune(engine, WEEK, now=NOW) == (0, 0)  # idempotent: a second replica finds nothing


def test_the_relay_prunes_at_most_once_per_interval(any_engine: Engine) -> None:
    engine = any_engine
    with engine.begin() as connection:
        connection.execute(insert(outbox_messages), [_outbox_row("a", PUBLISHED, timedelta(days=30))])
    relay = OutboxRelay(engine, publisher=None, retention=WEEK, prune_interval_seconds=3600)  # type: ignore[arg-type]
    assert relay.prune_if_due() == (1, 0)
    with engine.begin() as connection:
        connection.execute(insert(outbox_messages), [_outbox_row("b", PUBLISHED, timedelta(days=30))])
    assert relay.prune_if_due() == (0, 0)  # not due again for an hour
    assert OutboxRelay(engine, publisher=None).prune_if_due() == (0, 0)  # type: ignore[arg-type]  # no retention

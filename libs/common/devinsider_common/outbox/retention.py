"""Retention of the outbox and the inbox: published rows and old inbox records are deleted.

Published rows are kept `retention` long (to look into what went out, or replay it by resetting
its status); pending and failed rows are never deleted here: they are work or evidence. Inbox rows
are kept as long, which must exceed the longest redelivery a consumer can see. Deletes go in small
batches (short transactions, no long lock), and replicas may prune side by side: a row deleted twice
is simply not found the second time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select, tuple_

from devinsider_common.outbox.tables import PUBLISHED, inbox_messages, outbox_messages

BATCH = 1000


def prune(engine: Engine, retention: timedelta, now: datetime | None = None, batch: int = BATCH) -> tuple[int, int]:
    """Delete published outbox rows and inbox rows older than `retention`; (outbox, inbox) counts."""
    cutoff = (now or datetime.now(UTC)) - retention
    outbox = inbox = 0
    while True:
        old = (
            select(outbox_messages.c.id)
            .where(outbox_messages.c.status == PUBLISHED, outbox_messages.c.published_at < cutoff)
            .limit(batch)
        )
        with engine.begin() as connection:
            deleted = connection.execute(delete(outbox_messages).where(outbox_messages.c.id.in_(old))).rowcount
        outbox += deleted
        if deleted < batch:
            break
    while True:
        old_keys = (
            select(inbox_messages.c.consumer, inbox_messages.c.message_id)
            .where(inbox_messages.c.received_at < cutoff)
            .limit(batch)
        )
        key = tuple_(inbox_messages.c.consumer, inbox_messages.c.message_id)
        with engine.begin() as connection:
            deleted = connection.execute(delete(inbox_messages).where(key.in_(old_keys))).rowcount
        inbox += deleted
        if deleted < batch:
            break
    return outbox, inbox

"""Consumer-side deduplication: an inbox row per (consumer, message id), in the consumer's transaction.

Delivery is at least once (a relay may republish after a crash, RabbitMQ redelivers unacked
messages), so a consumer records the message id in the same transaction as its effect and skips
the message when the id is already there. `ON CONFLICT DO NOTHING` keeps a duplicate from
aborting the PostgreSQL transaction, and a concurrent duplicate waits for the first to commit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from devinsider_common.outbox.tables import inbox_messages


def record_once(connection: Connection, consumer: str, message_id: str) -> bool:
    """Record `message_id` for `consumer`; True the first time, False when it was seen before."""
    values = {"consumer": consumer, "message_id": message_id, "received_at": datetime.now(UTC)}
    dialect = connection.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"no inbox support for {dialect}")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING rather than rowcount, which psycopg may report as -1 here.
    statement = insert(inbox_messages).values(values).on_conflict_do_nothing().returning(inbox_messages.c.consumer)
    return connection.execute(statement).first() is not None

"""The outbox and inbox tables, shared by every service's metadata. Both work on PostgreSQL and SQLite.

A service's Alembic revisions do not call this module: an applied revision must not change with the
library, so each writes its operations out, and tests/contract/test_migrations_frozen.py checks that
the migrated tables are still these (a change here needs a new revision in every service).
`create_outbox_tables` creates them where no migration runs (the library's own tests).
"""

from __future__ import annotations

from typing import Any, Final

from alembic.operations import Operations
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

OUTBOX: Final = "outbox_messages"
INBOX: Final = "inbox_messages"
PENDING: Final = "pending"
PUBLISHED: Final = "published"
FAILED: Final = "failed"

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid alias), not a BIGINT one.
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")
_STATUS_INDEX = "ix_outbox_messages_status_available_at"


def _outbox_columns() -> list[Column[Any]]:
    return [
        Column("id", _ID_TYPE, primary_key=True, autoincrement=True),
        # The AMQP message id and the envelope's event_id: consumers deduplicate on it.
        Column("message_id", String(64), nullable=False),
        Column("exchange", String(255), nullable=False),
        Column("routing_key", String(255), nullable=False),
        Column("event_type", String(255), nullable=False),
        Column("body", Text, nullable=False),  # proto3 JSON of the EventEnvelope
        Column("status", String(16), nullable=False, server_default=PENDING),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("available_at", DateTime(timezone=True), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("last_error", Text, nullable=True),
        # AMQP headers to publish with, as a JSON object: the W3C trace context (`traceparent`,
        # `tracestate`) of the transaction that wrote the row (devinsider_common.tracing); NULL when untraced.
        Column("headers", Text, nullable=True),
    ]


def _inbox_columns() -> list[Column[Any]]:
    return [
        Column("consumer", String(128), nullable=False),
        Column("message_id", String(64), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    ]


def define_outbox_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Add `outbox_messages` and `inbox_messages` to a service's metadata; returns both tables."""
    outbox = Table(
        OUTBOX,
        metadata,
        *_outbox_columns(),
        UniqueConstraint("message_id", name="uq_outbox_messages_message_id"),
        # The relay's claim query filters on status and available_at, ordered by id.
        Index(_STATUS_INDEX, "status", "available_at"),
    )
    inbox = Table(INBOX, metadata, *_inbox_columns(), PrimaryKeyConstraint("consumer", "message_id"))
    return outbox, inbox


def create_outbox_tables(op: Operations) -> None:
    """Create both tables with Alembic operations (the library's tests; never from a revision)."""
    op.create_table(OUTBOX, *_outbox_columns(), UniqueConstraint("message_id", name="uq_outbox_messages_message_id"))
    op.create_index(_STATUS_INDEX, OUTBOX, ["status", "available_at"])
    op.create_table(INBOX, *_inbox_columns(), PrimaryKeyConstraint("consumer", "message_id"))


def drop_outbox_tables(op: Operations) -> None:
    """Drop both tables (the library's tests)."""
    op.drop_table(INBOX)
    op.drop_index(_STATUS_INDEX, table_name=OUTBOX)
    op.drop_table(OUTBOX)


# Module-level tables for code that does not own a MetaData (the writer, relay and inbox helpers).
_metadata = MetaData()
outbox_messages, inbox_messages = define_outbox_tables(_metadata)

"""The contact service's tables (SQLAlchemy Core), in its own schema (its migrations add the shared outbox
and inbox, `devinsider_common.outbox.tables`).

Page names are stored whole (`companies/{id}`); contact persons as the user directory described them when
named. `uq_contact_requests_open_pair` holds "one pending or accepted request per ordered pair";
`conversations.pair_key` one conversation per unordered pair; a message's `sequence` is unique in its
conversation. `page_unlocks` is the projection of billing's unlocks, written by the shared
`UnlockProjector` through `SqlUnlockStore`: its `target_id` column holds the target's full name, since
this service projects every kind of page.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()
TZ = DateTime(timezone=True)
OPEN_STATES = "state IN (1, 2)"  # PENDING, ACCEPTED


def _person(prefix: str, nullable: bool) -> list[Column[str]]:
    return [
        Column(f"{prefix}_user", String(255), nullable=nullable),
        Column(f"{prefix}_name", String(200), nullable=nullable),
        Column(f"{prefix}_email", String(320), nullable=nullable),
    ]


contact_requests = Table(
    "contact_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("sender", String(80), nullable=False),
    Column("target", String(80), nullable=False),
    Column("state", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("sender_display_name", String(200), nullable=False),
    Column("target_display_name", String(200), nullable=False),
    *_person("sender_contact", nullable=False),
    *_person("target_contact", nullable=True),
    Column("conversation_id", String(36)),
    Column("decline_reason", Text),
    Column("creator", String(255), nullable=False),
    Column("decider", String(255)),
    Column("request_id", String(128)),
    Column("created_at", TZ, nullable=False),
    Column("decided_at", TZ),
    UniqueConstraint("sender", "request_id", name="uq_contact_requests_request"),
    Index("ix_contact_requests_sender", "sender", "id"),
    Index("ix_contact_requests_target", "target", "id"),
    Index(
        "uq_contact_requests_open_pair",
        "sender",
        "target",
        unique=True,
        postgresql_where=text(OPEN_STATES),
        sqlite_where=text(OPEN_STATES),
    ),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("pair_key", String(161), nullable=False),
    Column("first_page", String(80), nullable=False),
    Column("first_display_name", String(200), nullable=False),
    *_person("first_contact", nullable=False),
    Column("second_page", String(80), nullable=False),
    Column("second_display_name", String(200), nullable=False),
    *_person("second_contact", nullable=False),
    Column("contact_request", String(160), nullable=False),
    Column("message_count", BigInteger, nullable=False),
    Column("last_message_at", TZ),
    Column("created_at", TZ, nullable=False),
    UniqueConstraint("pair_key", name="uq_conversations_pair"),
    Index("ix_conversations_first_page", "first_page", "id"),
    Index("ix_conversations_second_page", "second_page", "id"),
)

conversation_messages = Table(
    "conversation_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("conversation_id", String(36), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("author", String(255), nullable=False),
    Column("author_subject", String(255), nullable=False),
    Column("author_name", String(200), nullable=False),
    Column("author_page", String(80), nullable=False),
    Column("text", Text, nullable=False),
    Column("request_id", String(128)),
    Column("created_at", TZ, nullable=False),
    UniqueConstraint("conversation_id", "sequence", name="uq_conversation_messages_sequence"),
    UniqueConstraint("conversation_id", "author_subject", "request_id", name="uq_conversation_messages_request"),
)

read_marks = Table(
    "read_marks",
    metadata,
    Column("conversation_id", String(36), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("sequence", BigInteger, nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("updated_at", TZ, nullable=False),
)

page_unlocks = Table(
    "page_unlocks",
    metadata,
    Column("unlock", String(255), primary_key=True),  # billing's resource name
    Column("target_id", String(80), nullable=False),  # the unlocked page's full name
    Column("unlocker", String(80), nullable=False),
    Column("created_at", TZ, nullable=False),
    Index("ix_page_unlocks_target", "target_id", "created_at"),
    Index("ix_page_unlocks_pair", "unlocker", "target_id"),
)

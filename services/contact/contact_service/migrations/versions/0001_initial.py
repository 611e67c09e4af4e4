"""Contact requests, conversations, messages, read marks, the unlock projection, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
OPEN_STATES = "state IN (1, 2)"  # PENDING, ACCEPTED


def _person(prefix: str, nullable: bool) -> list[sa.Column]:
    return [
        sa.Column(f"{prefix}_user", sa.String(255), nullable=nullable),
        sa.Column(f"{prefix}_name", sa.String(200), nullable=nullable),
        sa.Column(f"{prefix}_email", sa.String(320), nullable=nullable),
    ]


def upgrade() -> None:
    op.create_table(
        "contact_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("sender", sa.String(80), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("sender_display_name", sa.String(200), nullable=False),
        sa.Column("target_display_name", sa.String(200), nullable=False),
        *_person("sender_contact", nullable=False),
        *_person("target_contact", nullable=True),
        sa.Column("conversation_id", sa.String(36)),
        sa.Column("decline_reason", sa.Text()),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("decider", sa.String(255)),
        sa.Column("request_id", sa.String(128)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("decided_at", TZ),
        sa.UniqueConstraint("sender", "request_id", name="uq_contact_requests_request"),
    )
    op.create_index("ix_contact_requests_sender", "contact_requests", ["sender", "id"])
    op.create_index("ix_contact_requests_target", "contact_requests", ["target", "id"])
    op.create_index(
        "uq_contact_requests_open_pair",
        "contact_requests",
        ["sender", "target"],
        unique=True,
        postgresql_where=sa.text(OPEN_STATES),
        sqlite_where=sa.text(OPEN_STATES),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("pair_key", sa.String(161), nullable=False),
        sa.Column("first_page", sa.String(80), nullable=False),
        sa.Column("first_display_name", sa.String(200), nullable=False),
        *_person("first_contact", nullable=False),
        sa.Column("second_page", sa.String(80), nullable=False),
        sa.Column("second_display_name", sa.String(200), nullable=False),
        *_person("second_contact", nullable=False),
        sa.Column("contact_request", sa.String(160), nullable=False),
        sa.Column("message_count", sa.BigInteger(), nullable=False),
        sa.Column("last_message_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("pair_key", name="uq_conversations_pair"),
    )
    op.create_index("ix_conversations_first_page", "conversations", ["first_page", "id"])
    op.create_index("ix_conversations_second_page", "conversations", ["second_page", "id"])
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("author_subject", sa.String(255), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("author_page", sa.String(80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("conversation_id", "sequence", name="uq_conversation_messages_sequence"),
        sa.UniqueConstraint("conversation_id", "author_subject", "request_id", name="uq_conversation_messages_request"),
    )
    op.create_table(
        "read_marks",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "page_unlocks",
        sa.Column("unlock", sa.String(255), primary_key=True),
        sa.Column("target_id", sa.String(80), nullable=False),
        sa.Column("unlocker", sa.String(80), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_page_unlocks_target", "page_unlocks", ["target_id", "created_at"])
    op.create_index("ix_page_unlocks_pair", "page_unlocks", ["unlocker", "target_id"])
    # The outbox and inbox as devinsider_common.outbox.tables defined them when this revision was
    # written (the `headers` column included), written out: an applied revision never changes with the library.
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("exchange", sa.String(255), nullable=False),
        sa.Column("routing_key", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("available_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.UniqueConstraint("message_id", name="uq_outbox_messages_message_id"),
    )
    op.create_index("ix_outbox_messages_status_available_at", "outbox_messages", ["status", "available_at"])
    op.create_table(
        "inbox_messages",
        sa.Column("consumer", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id"),
    )


def downgrade() -> None:
    op.drop_table("inbox_messages")
    op.drop_index("ix_outbox_messages_status_available_at", table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_index("ix_page_unlocks_pair", table_name="page_unlocks")
    op.drop_index("ix_page_unlocks_target", table_name="page_unlocks")
    op.drop_table("page_unlocks")
    op.drop_table("read_marks")
    op.drop_table("conversation_messages")
    op.drop_index("ix_conversations_second_page", table_name="conversations")
    op.drop_index("ix_conversations_first_page", table_name="conversations")
    op.drop_table("conversations")
    op.drop_index("uq_contact_requests_open_pair", table_name="contact_requests")
    op.drop_index("ix_contact_requests_target", table_name="contact_requests")
    op.drop_index("ix_contact_requests_sender", table_name="contact_requests")
    op.drop_table("contact_requests")

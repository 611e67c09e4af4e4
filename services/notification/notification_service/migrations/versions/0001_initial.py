"""Notifications, deliveries, digest items, preferences, the projections (memberships, known users, page
titles), outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("recipient", sa.String(80), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title", sa.String(400), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("page", sa.String(80), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("read_at", TZ, nullable=True),
    )
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])
    op.create_index("ix_notifications_recipient_id", "notifications", ["recipient", "id"])
    op.create_index("ix_notifications_recipient_read_at", "notifications", ["recipient", "read_at"])
    op.create_table(
        "deliveries",
        sa.Column("recipient", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_deliveries_created_at", "deliveries", ["created_at"])
    op.create_table(
        "digest_items",
        sa.Column("recipient", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("page", sa.String(80), nullable=False),
        sa.Column("page_display_name", sa.String(200), nullable=False),
        sa.Column("match", sa.String(80), nullable=False),
        sa.Column("match_display_name", sa.String(200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_digest_items_created_at", "digest_items", ["created_at"])
    op.create_table(
        "preferences",
        sa.Column("user", sa.String(80), primary_key=True),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("match_digest", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("page", sa.String(80), primary_key=True),
        sa.Column("member", sa.String(80), primary_key=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("role", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("as_of", TZ, nullable=False),
    )
    op.create_index("ix_memberships_member", "memberships", ["member"])
    op.create_table(
        "known_users",
        sa.Column("user", sa.String(80), primary_key=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("as_of", TZ, nullable=False),
    )
    op.create_index("ix_known_users_email", "known_users", ["email"])
    op.create_table(
        "page_titles",
        sa.Column("page", sa.String(80), primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("as_of", TZ, nullable=False),
    )
    # The outbox and inbox as devinsider_common.outbox.tables defined them when this revision was
    # applied, written out: an applied revision never changes with the library.
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
    for table in ("page_titles", "known_users", "memberships", "preferences", "digest_items", "deliveries"):
        op.drop_table(table)
    op.drop_table("notifications")

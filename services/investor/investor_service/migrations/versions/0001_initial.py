"""Investor pages with their filter tags, page members and invitations, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
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
        "investors",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("sort_name", sa.String(120), nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("category", sa.Integer, nullable=False),
        sa.Column("investor_type", sa.Integer, nullable=False),
        sa.Column("tagline", sa.String(160), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("website_url", sa.String(2048), nullable=False),
        sa.Column("logo_url", sa.String(2048), nullable=False),
        sa.Column("hq_country_code", sa.String(2), nullable=False),
        sa.Column("ticket_currency", sa.String(3), nullable=False),
        sa.Column("ticket_min_minor", sa.BigInteger),
        sa.Column("ticket_max_minor", sa.BigInteger),
        sa.Column("funding_stages", sa.JSON, nullable=False),
        sa.Column("industries", sa.JSON, nullable=False),
        sa.Column("solution_categories", sa.JSON, nullable=False),
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("country_codes", sa.JSON, nullable=False),
        sa.Column("portfolio", sa.JSON, nullable=False),
        sa.Column("contact_email", sa.String(320), nullable=False),
        sa.Column("contact_phone_number", sa.String(16), nullable=False),
        sa.Column("contact_name", sa.String(120), nullable=False),
        sa.Column("contact_linkedin_url", sa.String(2048), nullable=False),
        sa.Column("state", sa.Integer, nullable=False),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("deleted_at", TZ),
        sa.UniqueConstraint("creator", "request_id", name="uq_investors_creator_request"),
    )
    op.create_index("ix_investors_state_sort", "investors", ["state", "sort_name", "id"])
    op.create_index("ix_investors_state_updated", "investors", ["state", "updated_at", "id"])
    op.create_table(
        "investor_tags",
        sa.Column("investor_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), primary_key=True),
    )
    op.create_index("ix_investor_tags_kind_value", "investor_tags", ["kind", "value"])
    # Members and invitations as devinsider_common.pages.tables defined them when this revision was
    # applied, written out: an applied revision never changes with the library.
    op.create_table(
        "page_members",
        sa.Column("page_id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("role", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_page_members_subject", "subject"),
    )
    op.create_table(
        "page_invitations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("page_id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("inviter", sa.String(255), nullable=False),
        sa.Column("member_subject", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Index("ix_page_invitations_page", "page_id", "state"),
        sa.Index("ix_page_invitations_email", "email", "state"),
        sa.Index("ix_page_invitations_expiry", "state", "expires_at"),
        # One pending invitation per page and e-mail, enforced by the database.
        sa.Index(
            "uq_page_invitations_pending",
            "page_id",
            "email",
            unique=True,
            postgresql_where=sa.text("state = 1"),
            sqlite_where=sa.text("state = 1"),
        ),
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
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("message_id", name="uq_outbox_messages_message_id"),
    )
    op.create_index("ix_outbox_messages_status_available_at", "outbox_messages", ["status", "available_at"])
    op.create_table(
        "inbox_messages",
        sa.Column("consumer", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id"),
    )


def downgrade() -> None:
    op.drop_table("inbox_messages")
    op.drop_index("ix_outbox_messages_status_available_at", table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_table("page_invitations")
    op.drop_table("page_members")
    op.drop_table("investor_tags")
    op.drop_table("investors")

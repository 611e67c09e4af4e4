"""Programs, applications, page members and invitations, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
OPEN_APPLICATION = sa.text("state IN ('pending', 'approved')")


def program_columns() -> list[Any]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("vendor_name", sa.String(120), nullable=False),
        sa.Column("vendor_company", sa.String(80), nullable=False),
        sa.Column("program_type", sa.Integer, nullable=False),
        sa.Column("tagline", sa.String(160), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("benefits", sa.Text, nullable=False),
        sa.Column("requirements", sa.Text, nullable=False),
        sa.Column("country_codes", sa.Text, nullable=False),
        sa.Column("regions", sa.Text, nullable=False),
        sa.Column("industries", sa.Text, nullable=False),
        sa.Column("solution_categories", sa.Text, nullable=False),
        sa.Column("website_url", sa.String(2048), nullable=False),
        sa.Column("logo_url", sa.String(2048), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("member_company_count", sa.Integer, nullable=False),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("published_at", TZ),
        sa.Column("archived_at", TZ),
        sa.Column("deleted_at", TZ),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("creator", "idempotency_key", name="uq_programs_idempotency"),
        sa.Index("ix_programs_state_name", "state", "display_name"),
        sa.Index("ix_programs_vendor_company", "vendor_company"),
    ]


def application_columns() -> list[Any]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("applicant_subject", sa.String(255), nullable=False),
        sa.Column("applicant", sa.String(255), nullable=False),
        sa.Column("applicant_email", sa.String(320), nullable=False),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("company_display_name", sa.String(200), nullable=False),
        sa.Column("rejection_reason", sa.Text, nullable=False),
        sa.Column("decider", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("decided_at", TZ),
        sa.Column("idempotency_key", sa.String(128)),
        sa.UniqueConstraint("applicant_subject", "idempotency_key", name="uq_applications_idempotency"),
        sa.Index("ix_applications_program", "program_id", "state"),
        sa.Index("ix_applications_company", "company_id", "state"),
        # One open (pending or approved) application per program and company, enforced by the database.
        sa.Index(
            "uq_applications_open",
            "program_id",
            "company_id",
            unique=True,
            postgresql_where=OPEN_APPLICATION,
            sqlite_where=OPEN_APPLICATION,
        ),
    ]


def upgrade() -> None:
    op.create_table("programs", *program_columns())
    op.create_table("applications", *application_columns())
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
    op.drop_table("applications")
    op.drop_table("programs")

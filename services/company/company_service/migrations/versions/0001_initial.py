"""Companies, their directory tags, page members and invitations, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from devinsider_common.outbox.tables import create_outbox_tables, drop_outbox_tables
from devinsider_common.pages.tables import create_page_tables, drop_page_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
LIVE_FOUNDER = sa.text("founder <> '' AND state <> 'deleted'")


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("sort_name", sa.String(120), nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("hq_country_code", sa.String(2), nullable=False),
        sa.Column("company_size", sa.Integer, nullable=False),
        sa.Column("looking_for_funding", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("logo_key", sa.String(200)),
        sa.Column("logo_content_type", sa.String(64)),
        sa.Column("claim", sa.Text),
        sa.Column("founder", sa.String(255), nullable=False),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("deleted_at", TZ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("creator", "idempotency_key", name="uq_companies_idempotency"),
    )
    op.create_index("ix_companies_state_sort", "companies", ["state", "sort_name", "id"])
    op.create_index(
        "uq_companies_live_founder",
        "companies",
        ["founder"],
        unique=True,
        postgresql_where=LIVE_FOUNDER,
        sqlite_where=LIVE_FOUNDER,
    )
    op.create_table(
        "company_tags",
        sa.Column("company_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), primary_key=True),
    )
    op.create_index("ix_company_tags_kind_value", "company_tags", ["kind", "value"])
    create_page_tables(op)
    create_outbox_tables(op)


def downgrade() -> None:
    drop_outbox_tables(op)
    drop_page_tables(op)
    op.drop_table("company_tags")
    op.drop_table("companies")

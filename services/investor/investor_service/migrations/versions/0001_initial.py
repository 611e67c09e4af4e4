"""Investor pages with their filter tags, page members and invitations, outbox.

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
    create_page_tables(op)
    create_outbox_tables(op)


def downgrade() -> None:
    drop_outbox_tables(op)
    drop_page_tables(op)
    op.drop_table("investor_tags")
    op.drop_table("investors")

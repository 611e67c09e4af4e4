"""Pending match announcements: the durable "MatchFound round owed" marker of a profile change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_announcements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("page", sa.String(80), nullable=False, index=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pending_announcements")

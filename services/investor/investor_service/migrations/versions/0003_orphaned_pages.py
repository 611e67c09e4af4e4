"""Orphaned pages: when a page lost its last member (`orphaned_at`), and the index of staff's list.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ORPHANED = sa.text("orphaned_at IS NOT NULL")


def upgrade() -> None:
    op.add_column("investors", sa.Column("orphaned_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_investors_orphaned", "investors", ["orphaned_at"], postgresql_where=ORPHANED, sqlite_where=ORPHANED
    )
    # Pages orphaned before the mark existed (only logged then): live pages (state 1) without an owner
    # member, marked at their last change (the departure's time was not kept).
    op.execute(
        "UPDATE investors SET orphaned_at = updated_at WHERE state = 1 AND NOT EXISTS "
        "(SELECT 1 FROM page_members m WHERE m.page_id = investors.id AND m.role = 1)"
    )


def downgrade() -> None:
    op.drop_index("ix_investors_orphaned", table_name="investors")
    op.drop_column("investors", "orphaned_at")

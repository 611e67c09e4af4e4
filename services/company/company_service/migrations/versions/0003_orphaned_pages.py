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
    op.add_column("companies", sa.Column("orphaned_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_companies_orphaned", "companies", ["orphaned_at"], postgresql_where=ORPHANED, sqlite_where=ORPHANED
    )
    # Pages orphaned before the mark existed (only logged then): active pages without an owner member,
    # marked at their last change (the departure's time was not kept). Pre-listed and claimed pages have
    # no owner by design and stay unmarked.
    op.execute(
        "UPDATE companies SET orphaned_at = updated_at WHERE state = 'active' AND NOT EXISTS "
        "(SELECT 1 FROM page_members m WHERE m.page_id = companies.id AND m.role = 1)"
    )


def downgrade() -> None:
    op.drop_index("ix_companies_orphaned", table_name="companies")
    op.drop_column("companies", "orphaned_at")

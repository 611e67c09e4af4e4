"""Orphaned pages: when a program lost its last member (`orphaned_at`), and the index of staff's list.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ORPHANED = sa.text("orphaned_at IS NOT NULL")


def upgrade() -> None:
    op.add_column("programs", sa.Column("orphaned_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_programs_orphaned", "programs", ["orphaned_at"], postgresql_where=ORPHANED, sqlite_where=ORPHANED
    )
    # Programs orphaned before the mark existed (only logged then): live programs without an owner
    # member, marked at their last change (the departure's time was not kept).
    op.execute(
        "UPDATE programs SET orphaned_at = updated_at WHERE deleted_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM page_members m WHERE m.page_id = programs.id AND m.role = 1)"
    )


def downgrade() -> None:
    op.drop_index("ix_programs_orphaned", table_name="programs")
    op.drop_column("programs", "orphaned_at")

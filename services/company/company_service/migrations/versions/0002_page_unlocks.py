"""Who unlocked which company: the projection of billing's UnlockCreated events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # As devinsider_common.pages.unlocks defined the table when this revision was written.
    op.create_table(
        "page_unlocks",
        sa.Column("unlock", sa.String(255), primary_key=True),
        sa.Column("target_id", sa.String(36), nullable=False),
        sa.Column("unlocker", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_page_unlocks_target", "page_unlocks", ["target_id"])


def downgrade() -> None:
    op.drop_index("ix_page_unlocks_target", table_name="page_unlocks")
    op.drop_table("page_unlocks")

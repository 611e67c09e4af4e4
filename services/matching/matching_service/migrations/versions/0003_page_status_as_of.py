"""Page statuses hold as of a time: the occur time of the page event that reported them, or the time
the owning service was asked. An older event arriving late never overwrites a newer status.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("page_statuses", sa.Column("as_of", sa.DateTime(timezone=True), nullable=True))
    # The rows stored so far were fetched from their services: they hold as of their fetch.
    op.execute("UPDATE page_statuses SET as_of = fetched_at")


def downgrade() -> None:
    with op.batch_alter_table("page_statuses") as batch:
        batch.drop_column("as_of")

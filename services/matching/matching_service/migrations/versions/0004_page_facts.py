"""Page facts: what a page itself says about the dimensions it holds (industries, countries and regions,
solution categories, company size, revenue range, funding stages, funding need, ticket range), stored
with its status as JSON. The page is their source of truth; matching's profiles keep the rest.

Null means "not known yet": every status stored before this revision. While null, the page's profile
keeps scoring its own values, so no score changes at the upgrade; the next page event or status refresh
(or `devinsider-matching-sync-pages`) brings the facts, and the first status with facts strips the
page's values from its stored profile.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-16
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("page_statuses", sa.Column("facts", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("page_statuses") as batch:
        batch.drop_column("facts")

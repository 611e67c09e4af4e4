"""Outbox rows keep AMQP headers to publish with: the trace context of the request that wrote them.

`headers` (a JSON object, NULL when untraced) holds the W3C `traceparent`/`tracestate` captured in the
writing transaction; the relay publishes the row as a child span of it (devinsider_common.tracing).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox_messages", sa.Column("headers", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:  # SQLite rebuilds the table
        batch.drop_column("headers")

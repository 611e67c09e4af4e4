"""Entitlements: what each subscription plan entitles its page to (match results visible, advanced directory
filters, contact requests a month, seats; the monthly credits are the plan's `credits` per month), plan
changes (a subscription's scheduled plan, and the changes asked, for idempotent retries).

Counts of 0 mean no limit. Existing plans get the seeded catalogue's values; the columns' defaults (no limit)
only serve rows inserted by an older release during a rollout, which never inserts plans.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-20
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# plan id -> (match results visible, directory filters, contact requests a month, seats)
ENTITLEMENTS = {
    "isv-starter-monthly": (50, True, 20, 5),
    "isv-pro-monthly": (0, True, 100, 20),
    "isv-pro-yearly": (0, True, 100, 20),
    "investor-monthly": (0, True, 100, 20),
    "investor-yearly": (0, True, 100, 20),
    "program-monthly": (0, True, 200, 50),
    "program-yearly": (0, True, 200, 50),
}


def upgrade() -> None:
    for column in (
        sa.Column("match_results_visible", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("directory_filters", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("contact_requests_per_month", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("seats", sa.Integer(), nullable=False, server_default="0"),
    ):
        op.add_column("plans", column)
    plans = sa.table(
        "plans",
        sa.column("id"),
        sa.column("match_results_visible"),
        sa.column("directory_filters"),
        sa.column("contact_requests_per_month"),
        sa.column("seats"),
    )
    for plan_id, (matches, filters, contacts, seats) in ENTITLEMENTS.items():
        op.execute(
            plans.update()
            .where(plans.c.id == plan_id)
            .values(
                match_results_visible=matches,
                directory_filters=filters,
                contact_requests_per_month=contacts,
                seats=seats,
            )
        )
    op.add_column(
        "subscriptions", sa.Column("scheduled_plan_id", sa.String(length=64), nullable=False, server_default="")
    )
    op.create_table(
        "plan_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("from_plan_id", sa.String(length=64), nullable=False),
        sa.Column("to_plan_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("effective_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("creator", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("page", "request_id", name="uq_plan_changes_request"),
    )
    op.create_index(op.f("ix_plan_changes_subscription_id"), "plan_changes", ["subscription_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_changes_subscription_id"), table_name="plan_changes")
    op.drop_table("plan_changes")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("scheduled_plan_id")
    with op.batch_alter_table("plans") as batch:
        for name in ("seats", "contact_requests_per_month", "directory_filters", "match_results_visible"):
            batch.drop_column(name)

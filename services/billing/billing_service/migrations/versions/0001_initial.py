"""Plans (seeded), subscriptions, checkouts, credit ledger and lots, unlocks, invoices, payment events, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

COMPANY, INVESTOR, PROGRAM = 1, 2, 3
SUBSCRIPTION, CREDIT_PACK = 1, 2
NONE, MONTH, YEAR = 0, 1, 2

# (id, display name, page kind, kind, interval, EUR cents, credits, trial days, features)
PLANS = [
    ("isv-starter-monthly", "ISV Starter, monthly", COMPANY, SUBSCRIPTION, MONTH, 4900, 10, 14, ["10 unlocks a month"]),
    (
        "isv-pro-monthly",
        "ISV Pro, monthly",
        COMPANY,
        SUBSCRIPTION,
        MONTH,
        9900,
        25,
        0,
        ["25 unlocks a month", "Matching"],
    ),
    (
        "isv-pro-yearly",
        "ISV Pro, yearly",
        COMPANY,
        SUBSCRIPTION,
        YEAR,
        99000,
        300,
        0,
        ["300 unlocks a year", "Matching"],
    ),
    ("investor-monthly", "Investor, monthly", INVESTOR, SUBSCRIPTION, MONTH, 14900, 20, 14, ["20 unlocks a month"]),
    ("investor-yearly", "Investor, yearly", INVESTOR, SUBSCRIPTION, YEAR, 149000, 240, 0, ["240 unlocks a year"]),
    ("program-monthly", "Partner program, monthly", PROGRAM, SUBSCRIPTION, MONTH, 19900, 30, 0, ["30 unlocks a month"]),
    ("program-yearly", "Partner program, yearly", PROGRAM, SUBSCRIPTION, YEAR, 199000, 360, 0, ["360 unlocks a year"]),
    ("isv-credits-10", "10 credits (ISV)", COMPANY, CREDIT_PACK, NONE, 5000, 10, 0, ["10 unlocks, never expire"]),
    ("isv-credits-50", "50 credits (ISV)", COMPANY, CREDIT_PACK, NONE, 20000, 50, 0, ["50 unlocks, never expire"]),
    ("investor-credits-10", "10 credits (investor)", INVESTOR, CREDIT_PACK, NONE, 7500, 10, 0, ["10 unlocks"]),
    ("program-credits-10", "10 credits (program)", PROGRAM, CREDIT_PACK, NONE, 7500, 10, 0, ["10 unlocks"]),
]


def upgrade() -> None:
    op.create_table(
        "checkouts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("success_url", sa.String(length=2048), nullable=False),
        sa.Column("cancel_url", sa.String(length=2048), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("checkout_url", sa.String(length=2048), nullable=False),
        sa.Column("provider_reference", sa.String(length=128), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("creator", sa.String(length=255), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("failure_reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("close_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("page", "request_id", name="uq_checkouts_request"),
    )
    op.create_index(op.f("ix_checkouts_page"), "checkouts", ["page"], unique=False)
    op.create_index(op.f("ix_checkouts_provider_reference"), "checkouts", ["provider_reference"], unique=False)
    op.create_table(
        "credit_balances",
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("last_entry_id", sa.String(length=36), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_credit_balances_not_negative"),
        sa.PrimaryKeyConstraint("page"),
    )
    op.create_table(
        "credit_lots",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("remaining >= 0", name="ck_credit_lots_not_negative"),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_index(op.f("ix_credit_lots_page"), "credit_lots", ["page"], unique=False)
    op.create_table(
        "invoice_counters",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("checkout_id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("provider_reference", sa.String(length=128), nullable=False),
        sa.Column("receipt_url", sa.String(length=2048), nullable=False),
        sa.Column("issue_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pay_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credits_entry_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_index(op.f("ix_invoices_page"), "invoices", ["page"], unique=False)
    op.create_index(op.f("ix_invoices_provider_reference"), "invoices", ["provider_reference"], unique=False)
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("creator", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.CheckConstraint("balance_after >= 0", name="ck_ledger_entries_balance_not_negative"),
        sa.CheckConstraint("credits <> 0", name="ck_ledger_entries_credits_not_zero"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("page", "request_id", name="uq_ledger_entries_request"),
    )
    op.create_index("ix_ledger_entries_page_id", "ledger_entries", ["page", "id"], unique=False)
    op.create_table(
        "payment_events",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("page_kind", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("trial_days", sa.Integer(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trial_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("cancel_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=1000), nullable=False),
        sa.Column("provider_reference", sa.String(length=128), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_subscriptions_page"), "subscriptions", ["page"], unique=False)
    op.create_index(op.f("ix_subscriptions_period_end"), "subscriptions", ["period_end"], unique=False)
    op.create_index(op.f("ix_subscriptions_provider_reference"), "subscriptions", ["provider_reference"], unique=False)
    op.create_table(
        "unlocks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("target_kind", sa.Integer(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("ledger_entry_id", sa.String(length=36), nullable=False),
        sa.Column("creator", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("page", "request_id", name="uq_unlocks_request"),
        sa.UniqueConstraint("page", "target", name="uq_unlocks_pair"),
    )
    op.create_index(op.f("ix_unlocks_target"), "unlocks", ["target"], unique=False)
    # At most one live (trialing, active, past-due) subscription per page, enforced by the database.
    op.create_index(
        "uq_subscriptions_one_live",
        "subscriptions",
        ["page"],
        unique=True,
        postgresql_where=sa.text("state IN (1, 2, 3)"),
        sqlite_where=sa.text("state IN (1, 2, 3)"),
    )
    # The outbox and inbox as devinsider_common.outbox.tables defined them when this revision was
    # applied, written out: an applied revision never changes with the library.
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("exchange", sa.String(255), nullable=False),
        sa.Column("routing_key", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("message_id", name="uq_outbox_messages_message_id"),
    )
    op.create_index("ix_outbox_messages_status_available_at", "outbox_messages", ["status", "available_at"])
    op.create_table(
        "inbox_messages",
        sa.Column("consumer", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id"),
    )
    plans = sa.table(
        "plans",
        *(
            sa.column(name)
            for name in (
                "id",
                "display_name",
                "description",
                "page_kind",
                "kind",
                "interval",
                "currency",
                "price_minor",
                "credits",
                "trial_days",
                "features",
                "active",
            )
        ),
    )
    op.bulk_insert(
        plans,
        [
            {
                "id": plan_id,
                "display_name": display,
                "description": f"{display}: {credits} credits" + (" every period" if kind == SUBSCRIPTION else ""),
                "page_kind": page_kind,
                "kind": kind,
                "interval": interval,
                "currency": "EUR",
                "price_minor": price,
                "credits": credits,
                "trial_days": trial,
                "features": json.dumps(features),
                "active": True,
            }
            for plan_id, display, page_kind, kind, interval, price, credits, trial, features in PLANS
        ],
    )


def downgrade() -> None:
    op.drop_table("inbox_messages")
    op.drop_index("ix_outbox_messages_status_available_at", table_name="outbox_messages")
    op.drop_table("outbox_messages")
    for table in (
        "payment_events",
        "invoice_counters",
        "invoices",
        "unlocks",
        "credit_lots",
        "ledger_entries",
        "credit_balances",
        "checkouts",
        "subscriptions",
        "plans",
    ):
        op.drop_table(table)

"""The billing service's tables (SQLAlchemy Core), in its own schema, with its outbox.

Money columns are integer minor units beside a currency; credit balances carry CHECK
constraints (never negative) and a version column bumped on every change.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData()
TZ = DateTime(timezone=True)

plans = Table(
    "plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("display_name", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("page_kind", Integer, nullable=False),
    Column("kind", Integer, nullable=False),
    Column("interval", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("trial_days", Integer, nullable=False),
    Column("features", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    # Entitlements of a subscription (counts of 0: no limit); the monthly credits are `credits` per month.
    Column("match_results_visible", Integer, nullable=False, server_default="0"),
    Column("directory_filters", Boolean, nullable=False, server_default=false()),
    Column("contact_requests_per_month", Integer, nullable=False, server_default="0"),
    Column("seats", Integer, nullable=False, server_default="0"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("page", String(80), nullable=False, index=True),
    Column("plan_id", String(64), nullable=False),
    Column("state", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("period_start", TZ, nullable=False),
    Column("period_end", TZ, nullable=False, index=True),
    Column("trial_end", TZ),
    Column("cancel_at_period_end", Boolean, nullable=False),
    Column("cancel_time", TZ),
    Column("end_time", TZ),
    Column("cancel_reason", String(1000), nullable=False),
    Column("provider_reference", String(128), nullable=False, index=True),
    Column("contact_email", String(320), nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    # The plan it moves to at the end of its period (migration 0002).
    Column("scheduled_plan_id", String(64), nullable=False, server_default=""),
    # At most one live (trialing, active, past-due) subscription per page (migration 0001).
    Index(
        "uq_subscriptions_one_live",
        "page",
        unique=True,
        postgresql_where=text("state IN (1, 2, 3)"),
        sqlite_where=text("state IN (1, 2, 3)"),
    ),
)

# The plan changes asked (ChangeSubscriptionPlan): a retry with the same request id finds its own.
plan_changes = Table(
    "plan_changes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("page", String(80), nullable=False),
    Column("subscription_id", String(36), nullable=False, index=True),
    Column("from_plan_id", String(64), nullable=False),
    Column("to_plan_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("effective_time", TZ, nullable=False),
    Column("invoice_id", String(36), nullable=False),
    Column("creator", String(255), nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("request_id", String(128)),
    UniqueConstraint("page", "request_id", name="uq_plan_changes_request"),
)

checkouts = Table(
    "checkouts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("page", String(80), nullable=False, index=True),
    Column("plan_id", String(64), nullable=False),
    Column("state", Integer, nullable=False),
    Column("success_url", String(2048), nullable=False),
    Column("cancel_url", String(2048), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("checkout_url", String(2048), nullable=False),
    Column("provider_reference", String(128), nullable=False, index=True),
    Column("contact_email", String(320), nullable=False),
    Column("creator", String(255), nullable=False),
    Column("subscription_id", String(36), nullable=False),
    Column("invoice_id", String(36), nullable=False),
    Column("failure_reason", String(500), nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("expire_time", TZ, nullable=False),
    Column("close_time", TZ),
    Column("request_id", String(128)),
    UniqueConstraint("page", "request_id", name="uq_checkouts_request"),
)

credit_balances = Table(
    "credit_balances",
    metadata,
    Column("page", String(80), primary_key=True),
    Column("balance", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("last_entry_id", String(36), nullable=False),
    Column("updated_at", TZ, nullable=False),
    CheckConstraint("balance >= 0", name="ck_credit_balances_not_negative"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("page", String(80), nullable=False),
    Column("kind", Integer, nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("description", String(500), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("creator", String(255), nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("expire_time", TZ),
    Column("request_id", String(128)),
    CheckConstraint("balance_after >= 0", name="ck_ledger_entries_balance_not_negative"),
    CheckConstraint("credits <> 0", name="ck_ledger_entries_credits_not_zero"),
    UniqueConstraint("page", "request_id", name="uq_ledger_entries_request"),
    Index("ix_ledger_entries_page_id", "page", "id"),
)

credit_lots = Table(
    "credit_lots",
    metadata,
    Column("entry_id", String(36), primary_key=True),
    Column("page", String(80), nullable=False, index=True),
    Column("remaining", BigInteger, nullable=False),
    Column("expire_time", TZ),
    CheckConstraint("remaining >= 0", name="ck_credit_lots_not_negative"),
)

unlocks = Table(
    "unlocks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("page", String(80), nullable=False),
    Column("target", String(80), nullable=False, index=True),
    Column("target_kind", Integer, nullable=False),
    Column("cost", BigInteger, nullable=False),
    Column("ledger_entry_id", String(36), nullable=False),
    Column("creator", String(255), nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("request_id", String(128)),
    UniqueConstraint("page", "target", name="uq_unlocks_pair"),
    UniqueConstraint("page", "request_id", name="uq_unlocks_request"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("page", String(80), nullable=False, index=True),
    Column("number", String(32), nullable=False, unique=True),
    Column("state", Integer, nullable=False),
    Column("lines", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("checkout_id", String(36), nullable=False),
    Column("subscription_id", String(36), nullable=False),
    Column("provider_reference", String(128), nullable=False, index=True),
    Column("receipt_url", String(2048), nullable=False),
    Column("issue_time", TZ, nullable=False),
    Column("pay_time", TZ),
    Column("credits_entry_id", String(36), nullable=False),
)

invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)

# Provider event ids already applied: a redelivered or replayed event changes nothing.
payment_events = Table(
    "payment_events",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("received_at", TZ, nullable=False),
)

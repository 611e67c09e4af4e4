"""The user service's tables (SQLAlchemy Core), in its own schema, with its outbox."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subject", String(255), nullable=False, unique=True),
    Column("email", String(320), nullable=False, index=True),
    Column("given_name", String(100), nullable=False, default=""),
    Column("family_name", String(100), nullable=False, default=""),
    Column("job_title", String(120), nullable=False, default=""),
    Column("country_code", String(2), nullable=False, default=""),
    Column("phone_number", String(16), nullable=False, default=""),
    Column("linkedin_url", String(2048), nullable=False, default=""),
    Column("biography", Text, nullable=False, default=""),
    Column("contact_category", Integer, nullable=False, default=0),
    Column("roles", Text, nullable=False, default=""),
    Column("verified_pro", Boolean, nullable=False, default=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_event_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    Column("email_verified", Boolean, nullable=False, default=False, server_default=false()),
    Column("last_login_at", DateTime(timezone=True)),
    Column("disabled", Boolean, nullable=False, default=False, server_default=false()),
)

pro_verifications = Table(
    "pro_verifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("work_email", String(320), nullable=False),
    Column("company_name", String(200), nullable=False),
    Column("evidence_url", String(2048), nullable=False),
    Column("message", Text, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("rejection_reason", Text, nullable=False),
    Column("reviewer", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("idempotency_key", String(128)),
    UniqueConstraint("user_id", "idempotency_key", name="uq_pro_verifications_idempotency"),
    # At most one pending request per user (migration 0001).
    Index(
        "uq_pro_verifications_one_pending",
        "user_id",
        unique=True,
        postgresql_where=text("state = 'pending'"),
        sqlite_where=text("state = 'pending'"),
    ),
)

support_requests = Table(
    "support_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("subject", String(200), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("idempotency_key", String(128)),
    UniqueConstraint("user_id", "idempotency_key", name="uq_support_requests_idempotency"),
)

blacklist_entries = Table(
    "blacklist_entries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("value", String(255), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("creator", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("kind", "value", name="uq_blacklist_kind_value"),
)

# Keycloak event ids already applied: a redelivered event changes nothing.
keycloak_events = Table(
    "keycloak_events",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

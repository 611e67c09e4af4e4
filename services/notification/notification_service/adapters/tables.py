"""The notification service's tables (SQLAlchemy Core), in its own schema (the outbox and inbox are the
library's, `devinsider_common.outbox.tables`).

Projections of other services' facts (memberships, known users, page titles) hold as of the event that
last changed them (`as_of`, its occur time); the notifications, what was delivered to whom (by draft
key), the matches waiting for a digest and the preferences are the service's own."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()
TZ = DateTime(timezone=True)
USER = String(80)  # a member's id: a user id, or a Keycloak subject (page ids and user ids are at most 64)
PAGE = String(80)  # `{companies|investors|programs}/{id}`

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("recipient", USER, nullable=False),
    Column("category", Integer, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("title", String(400), nullable=False),
    Column("body", Text, nullable=False),
    Column("page", PAGE, nullable=False),
    Column("resource", String(255), nullable=False),
    Column("params", Text, nullable=False),  # a JSON object of strings
    Column("created_at", TZ, nullable=False, index=True),
    Column("read_at", TZ, nullable=True),
    # Lists (newest first by id) and the unread count, per recipient.
    Index("ix_notifications_recipient_id", "recipient", "id"),
    Index("ix_notifications_recipient_read_at", "recipient", "read_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("recipient", USER, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("created_at", TZ, nullable=False, index=True),
)

digest_items = Table(
    "digest_items",
    metadata,
    Column("recipient", USER, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("page", PAGE, nullable=False),
    Column("page_display_name", String(200), nullable=False),
    Column("match", PAGE, nullable=False),
    Column("match_display_name", String(200), nullable=False),
    Column("score", Float, nullable=False),
    Column("created_at", TZ, nullable=False, index=True),
)

preferences = Table(
    "preferences",
    metadata,
    Column("user", USER, primary_key=True),
    Column("channels", Text, nullable=False),  # JSON: {"matches": {"in_app": true, "mail": false}, ...}
    Column("match_digest", Integer, nullable=False),
    Column("locale", String(35), nullable=False),
    Column("updated_at", TZ, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("page", PAGE, primary_key=True),
    Column("member", USER, primary_key=True),
    Column("subject", String(255), nullable=False),
    Column("role", Integer, nullable=True),  # NULL: removed (the row keeps the time, not the person)
    Column("email", String(320), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("as_of", TZ, nullable=False),
    Index("ix_memberships_member", "member"),
)

known_users = Table(
    "known_users",
    metadata,
    Column("user", USER, primary_key=True),
    Column("subject", String(255), nullable=False),
    Column("email", String(320), nullable=False, index=True),
    Column("display_name", String(200), nullable=False),
    Column("as_of", TZ, nullable=False),
)

page_titles = Table(
    "page_titles",
    metadata,
    Column("page", PAGE, primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("as_of", TZ, nullable=False),
)

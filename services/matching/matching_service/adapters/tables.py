"""The matching service's tables (SQLAlchemy Core), in its own schema; see migrations 0001 to 0004."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()
TZ = DateTime(timezone=True)

taxonomy_versions = Table(
    "taxonomy_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("published_at", TZ, nullable=False),
)
criteria = Table(
    "criteria",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("dimension", Integer, primary_key=True, autoincrement=False),
    Column("code", String(64), primary_key=True),
    Column("display_name", String(120), nullable=False),
    Column("parent", String(64), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("deprecated", Boolean, nullable=False),
)
profiles = Table(
    "profiles",
    metadata,
    Column("page", String(80), primary_key=True),
    Column("kind", Integer, nullable=False),
    Column("criteria", Text, nullable=False),
    Column("funding_need", Text, nullable=False),
    Column("ticket_range", Text, nullable=False),
    Column("taxonomy_version", Integer, nullable=False),
    Column("updated_at", TZ, nullable=False),
)
page_statuses = Table(
    "page_statuses",
    metadata,
    Column("page", String(80), primary_key=True),
    Column("kind", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("program_complete", Boolean, nullable=False),
    Column("investor_complete", Boolean, nullable=False),
    Column("vendor_company", String(80), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("logo_url", String(2048), nullable=False),
    Column("tagline", String(300), nullable=False),
    Column("country_code", String(2), nullable=False),
    # When matching last wrote the row (its clock).
    Column("fetched_at", TZ, nullable=False),
    # The time the status holds as of: the occur time of the event that reported it (the owning
    # service's clock), or the time the owning service was asked (migration 0003; null: unknown).
    Column("as_of", TZ, nullable=True),
    # The facts the page holds (`domain.facts.PageFacts`) as JSON (migration 0004; null: not known yet).
    Column("facts", Text, nullable=True),
)
change_log = Table(
    "change_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("page", String(80), nullable=False),
    Column("changed_at", TZ, nullable=False),
)
favorites = Table(
    "favorites",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(80), nullable=False),
    Column("page", String(80), nullable=False),
    Column("page_kind", Integer, nullable=False),
    Column("creator", String(255), nullable=False),
    Column("created_at", TZ, nullable=False),
    UniqueConstraint("owner", "page", name="uq_favorites_owner_page"),
)
blocks = Table(
    "blocks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("blocker", String(80), nullable=False),
    Column("page", String(80), nullable=False, index=True),
    Column("page_kind", Integer, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("creator", String(255), nullable=False),
    Column("created_at", TZ, nullable=False),
    UniqueConstraint("blocker", "page", name="uq_blocks_blocker_page"),
)
notified_matches = Table(
    "notified_matches",
    metadata,
    Column("company", String(80), primary_key=True),
    Column("target", String(80), primary_key=True),
    Column("score", Float, nullable=False),
    Column("notified_at", TZ, nullable=False),
)
# Pages whose change still owes its round of MatchFound events: written in the change's own
# transaction, removed in the transaction that writes the events (see migration 0002).
pending_announcements = Table(
    "pending_announcements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("page", String(80), nullable=False, index=True),
    Column("requested_at", TZ, nullable=False),
)

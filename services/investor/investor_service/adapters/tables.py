"""The investor service's tables (SQLAlchemy Core), in its own schema, with the shared page tables."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from devinsider_common.pages.tables import define_page_tables
from devinsider_common.pages.unlocks import define_unlock_table

metadata = MetaData()
ORPHANED = text("orphaned_at IS NOT NULL")

investors = Table(
    "investors",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("display_name", String(120), nullable=False),
    # Lower-cased display name: the default order and its keyset.
    Column("sort_name", String(120), nullable=False),
    # Lower-cased display name, tagline and description, for the free-text filter.
    Column("search_text", Text, nullable=False),
    Column("category", Integer, nullable=False),
    Column("investor_type", Integer, nullable=False),
    Column("tagline", String(160), nullable=False),
    Column("description", Text, nullable=False),
    Column("website_url", String(2048), nullable=False),
    Column("logo_url", String(2048), nullable=False),
    Column("hq_country_code", String(2), nullable=False),
    # One currency for both ends of the ticket range; an unset end is NULL.
    Column("ticket_currency", String(3), nullable=False),
    Column("ticket_min_minor", BigInteger),
    Column("ticket_max_minor", BigInteger),
    Column("funding_stages", JSON, nullable=False),
    Column("industries", JSON, nullable=False),
    Column("solution_categories", JSON, nullable=False),
    Column("regions", JSON, nullable=False),
    Column("country_codes", JSON, nullable=False),
    Column("portfolio", JSON, nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("contact_phone_number", String(16), nullable=False),
    Column("contact_name", String(120), nullable=False),
    Column("contact_linkedin_url", String(2048), nullable=False),
    Column("state", Integer, nullable=False),
    Column("creator", String(255), nullable=False),
    Column("request_id", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    Column("orphaned_at", DateTime(timezone=True)),  # set while the page has no member (pages.orphans)
    UniqueConstraint("creator", "request_id", name="uq_investors_creator_request"),
    Index("ix_investors_state_sort", "state", "sort_name", "id"),
    Index("ix_investors_state_updated", "state", "updated_at", "id"),
    # Staff's list of orphaned pages reads these few rows only.
    Index("ix_investors_orphaned", "orphaned_at", postgresql_where=ORPHANED, sqlite_where=ORPHANED),
)

# The filterable list fields, one row per value, so "any of these" filters are indexed EXISTS.
investor_tags = Table(
    "investor_tags",
    metadata,
    Column("investor_id", String(36), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("value", String(64), primary_key=True),
    Index("ix_investor_tags_kind_value", "kind", "value"),
)

PAGE_TABLES = define_page_tables(metadata)
# Who unlocked which investor page (projected from billing's UnlockCreated).
PAGE_UNLOCKS = define_unlock_table(metadata)

# Which list fields are mirrored into investor_tags, under which kind.
TAG_KINDS = ("funding_stages", "industries", "country_codes")

"""The company service's tables (SQLAlchemy Core), in its own schema, with the shared page tables.

A page's content lives in one JSON document (`profile`); the columns beside it are what the
directory filters and sorts on. Repeated filter values (industries, categories, regions, licensing
models) are rows of `company_tags`, so an OR within a filter is one indexed EXISTS on every database.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, text

from devinsider_common.pages.tables import define_page_tables
from devinsider_common.pages.unlocks import define_unlock_table

metadata = MetaData()
page_tables = define_page_tables(metadata)
# Who unlocked which company (projected from billing's UnlockCreated).
page_unlocks = define_unlock_table(metadata)

TZ = DateTime(timezone=True)
LIVE_FOUNDER = text("founder <> '' AND state <> 'deleted'")
ORPHANED = text("orphaned_at IS NOT NULL")

companies = Table(
    "companies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("display_name", String(120), nullable=False),
    Column("sort_name", String(120), nullable=False),  # lower-cased display name, the default order
    Column("search_text", Text, nullable=False),  # lower-cased names, tagline and description
    Column("hq_country_code", String(2), nullable=False),
    Column("company_size", Integer, nullable=False),
    Column("looking_for_funding", Boolean, nullable=False),
    Column("state", String(16), nullable=False),
    Column("profile", Text, nullable=False),
    Column("logo_key", String(200)),
    Column("logo_content_type", String(64)),
    Column("claim", Text),  # JSON of the claimant while a claim is pending or once approved
    Column("founder", String(255), nullable=False),
    Column("creator", String(255), nullable=False),
    Column("idempotency_key", String(128)),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    Column("deleted_at", TZ),
    Column("version", Integer, nullable=False),
    Column("orphaned_at", TZ),  # set while the page has no member (devinsider_common.pages.orphans)
    UniqueConstraint("creator", "idempotency_key", name="uq_companies_idempotency"),
    Index("ix_companies_state_sort", "state", "sort_name", "id"),
    # One live page per founding ISV user, enforced by the database, not only by the use case.
    Index(
        "uq_companies_live_founder", "founder", unique=True, postgresql_where=LIVE_FOUNDER, sqlite_where=LIVE_FOUNDER
    ),
    # Staff's list of orphaned pages reads these few rows only.
    Index("ix_companies_orphaned", "orphaned_at", postgresql_where=ORPHANED, sqlite_where=ORPHANED),
)

company_tags = Table(
    "company_tags",
    metadata,
    Column("company_id", String(36), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("value", String(64), primary_key=True),
    Index("ix_company_tags_kind_value", "kind", "value"),
)

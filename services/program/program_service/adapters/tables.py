"""The program service's tables (SQLAlchemy Core), in its own schema, with the shared page tables.

The 0001 migration holds a frozen copy of these shapes; a change here needs a new revision.
List fields: free texts (benefits, requirements) as JSON arrays, taxonomy and country codes as
`,a,b,` so a filter is one indexed-free LIKE on both PostgreSQL and SQLite.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from devinsider_common.pages.tables import define_page_tables

TZ = sa.DateTime(timezone=True)
OPEN_APPLICATION = sa.text("state IN ('pending', 'approved')")
ORPHANED = sa.text("orphaned_at IS NOT NULL")


def program_columns() -> list[Any]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("vendor_name", sa.String(120), nullable=False),
        sa.Column("vendor_company", sa.String(80), nullable=False),
        sa.Column("program_type", sa.Integer, nullable=False),
        sa.Column("tagline", sa.String(160), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("benefits", sa.Text, nullable=False),
        sa.Column("requirements", sa.Text, nullable=False),
        sa.Column("country_codes", sa.Text, nullable=False),
        sa.Column("regions", sa.Text, nullable=False),
        sa.Column("industries", sa.Text, nullable=False),
        sa.Column("solution_categories", sa.Text, nullable=False),
        sa.Column("website_url", sa.String(2048), nullable=False),
        sa.Column("logo_url", sa.String(2048), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("member_company_count", sa.Integer, nullable=False),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("published_at", TZ),
        sa.Column("archived_at", TZ),
        sa.Column("deleted_at", TZ),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("orphaned_at", TZ),  # set while the page has no member (pages.orphans); revision 0002
        sa.UniqueConstraint("creator", "idempotency_key", name="uq_programs_idempotency"),
        sa.Index("ix_programs_state_name", "state", "display_name"),
        sa.Index("ix_programs_vendor_company", "vendor_company"),
        # Staff's list of orphaned pages reads these few rows only (revision 0002).
        sa.Index("ix_programs_orphaned", "orphaned_at", postgresql_where=ORPHANED, sqlite_where=ORPHANED),
    ]


def application_columns() -> list[Any]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("applicant_subject", sa.String(255), nullable=False),
        sa.Column("applicant", sa.String(255), nullable=False),
        sa.Column("applicant_email", sa.String(320), nullable=False),
        sa.Column("applicant_name", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("company_display_name", sa.String(200), nullable=False),
        sa.Column("rejection_reason", sa.Text, nullable=False),
        sa.Column("decider", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("decided_at", TZ),
        sa.Column("idempotency_key", sa.String(128)),
        sa.UniqueConstraint("applicant_subject", "idempotency_key", name="uq_applications_idempotency"),
        sa.Index("ix_applications_program", "program_id", "state"),
        sa.Index("ix_applications_company", "company_id", "state"),
        # One open (pending or approved) application per program and company, enforced by the database.
        sa.Index(
            "uq_applications_open",
            "program_id",
            "company_id",
            unique=True,
            postgresql_where=OPEN_APPLICATION,
            sqlite_where=OPEN_APPLICATION,
        ),
    ]


metadata = sa.MetaData()
programs = sa.Table("programs", metadata, *program_columns())
applications = sa.Table("applications", metadata, *application_columns())
page_tables = define_page_tables(metadata)

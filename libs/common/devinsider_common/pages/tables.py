"""Members and invitations tables, the same in every page service's own schema.

`define_page_tables` adds them to a service's MetaData. A service's Alembic revisions write their
operations out instead of calling `create_page_tables` (an applied revision must not change with the
library); tests/contract/test_migrations_frozen.py checks the migrated tables are still these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

TZ = sa.DateTime(timezone=True)


def _member_columns() -> list[Any]:
    return [
        sa.Column("page_id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("role", sa.Integer, nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Index("ix_page_members_subject", "subject"),
    ]


def _invitation_columns() -> list[Any]:
    pending = sa.text("state = 1")
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("page_id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("state", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("inviter", sa.String(255), nullable=False),
        sa.Column("member_subject", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("closed_at", TZ),
        sa.Index("ix_page_invitations_page", "page_id", "state"),
        sa.Index("ix_page_invitations_email", "email", "state"),
        sa.Index("ix_page_invitations_expiry", "state", "expires_at"),
        # One pending invitation per page and e-mail, enforced by the database.
        sa.Index(
            "uq_page_invitations_pending",
            "page_id",
            "email",
            unique=True,
            postgresql_where=pending,
            sqlite_where=pending,
        ),
    ]


@dataclass(frozen=True)
class PageTables:
    members: sa.Table
    invitations: sa.Table


def define_page_tables(metadata: sa.MetaData) -> PageTables:
    return PageTables(
        members=sa.Table("page_members", metadata, *_member_columns()),
        invitations=sa.Table("page_invitations", metadata, *_invitation_columns()),
    )


def create_page_tables(op: Any) -> None:
    """Create both tables with Alembic operations (the library's tests; never from a revision);
    Alembic also emits the CREATE INDEX of the Index objects given with the columns."""
    op.create_table("page_members", *_member_columns())
    op.create_table("page_invitations", *_invitation_columns())


def drop_page_tables(op: Any) -> None:
    op.drop_table("page_invitations")
    op.drop_table("page_members")

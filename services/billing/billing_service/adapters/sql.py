"""Small SQL helpers shared by the repositories (dialect-portable upserts, UTC times)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from devinsider_common.clock import as_utc


def insert_ignore(connection: Connection, table: Table, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite; True when a row was inserted."""
    dialect: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    # RETURNING tells reliably whether the row went in (rowcount is not dependable across drivers).
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return connection.execute(statement).first() is not None


def utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def must_utc(value: datetime) -> datetime:
    return as_utc(value)

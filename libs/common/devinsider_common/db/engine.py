"""SQLAlchemy 2 engines: PostgreSQL with one schema per service, or a SQLite file per service.

On PostgreSQL every connection's `search_path` is the service's schema, so tables, raw SQL and
Alembic's version table all land there without qualifying names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_service_engine(url: str, schema: str, pool_size: int = 10) -> Engine:
    """An engine whose connections work inside `schema` (PostgreSQL) or one SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # a restarted PostgreSQL costs one failed ping, not a failed call
        pool_recycle=1800,
        connect_args={"options": f"-csearch_path={schema}", "connect_timeout": 5},
    )


def ensure_schema(engine: Engine, schema: str) -> None:
    if is_sqlite(engine):
        return
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


def drop_schema(engine: Engine, schema: str) -> None:
    """Drop a schema and everything in it (tests clean up with this)."""
    if is_sqlite(engine):
        return
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query (used by the health reporter)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

"""SQLAlchemy 2 engines: PostgreSQL with one schema per service, or a SQLite file per service.

On PostgreSQL every connection's `search_path` is the service's schema, so tables, raw SQL and
Alembic's version table all land there without qualifying names.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# A pooled connection idle for longer than this is pinged before use; a busier one is not (a ping on
# every checkout is one more round trip per call). A server restart is still caught by the health probe,
# whose failed ping invalidates every connection of the pool (SQLAlchemy's disconnect handling).
IDLE_PING_SECONDS = 30.0
_RETURNED_AT = "devinsider_returned_at"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_service_engine(url: str, schema: str, pool_size: int = 10, max_overflow: int | None = None) -> Engine:
    """An engine whose connections work inside `schema` (PostgreSQL) or one SQLite file; on PostgreSQL a
    pool of `pool_size` connections, plus `max_overflow` (default: as many) opened under bursts."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        # The most recently returned connection first: a steady load keeps using the same few connections,
        # whose statements psycopg has prepared (after five runs on a connection), and the rest go idle
        # (closed by pool_recycle) instead of each being drawn in turn and warming up on its own.
        pool_use_lifo=True,
        pool_recycle=1800,
        connect_args={"options": f"-csearch_path={schema}", "connect_timeout": 5},
    )
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Ping a connection on checkout only when it sat in the pool for `idle_seconds` or more; a dead one
    is replaced (the pool retries the checkout) instead of failing the call that drew it."""

    def returned(_: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return  # new, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(str(error)) from error
        if not alive:
            raise exc.DisconnectionError("the pooled connection did not answer its ping")

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", checkout)


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

"""Alembic migrations per service, run programmatically against the service's engine.

Each service keeps `migrations/` (env.py + versions/) inside its package; env.py is a two-line
call to `run_env()` so the Alembic environment itself is written once, here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine, text

from devinsider_common.db.engine import ensure_schema


def _config(script_location: Path, engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["engine"] = engine
    return config


@contextmanager
def migration_lock(engine: Engine, schema: str) -> Iterator[None]:
    """One migrating replica at a time per schema (PostgreSQL session advisory lock, held on a
    connection of its own): replicas starting together wait for the first, then find the schema
    at head. SQLite databases are local to one process: no lock needed."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = {"key": f"devinsider-migrations:{schema}"}
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(hashtext(:key))"), key)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), key)
            connection.commit()


def upgrade(engine: Engine, schema: str, script_location: Path, revision: str = "head") -> None:
    """Create the service schema if needed and apply every migration up to `revision`, under the
    schema's migration lock."""
    with migration_lock(engine, schema):
        ensure_schema(engine, schema)
        command.upgrade(_config(script_location, engine), revision)


def downgrade(engine: Engine, script_location: Path, revision: str) -> None:
    command.downgrade(_config(script_location, engine), revision)


def run_env() -> None:
    """Body of every service's migrations/env.py: migrate on the engine handed over by `upgrade`."""
    engine: Engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(connection=connection, render_as_batch=engine.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()

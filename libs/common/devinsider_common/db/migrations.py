"""Alembic migrations per service, run programmatically against the service's engine.

Each service keeps `migrations/` (env.py + versions/) inside its package; env.py is a two-line
call to `run_env()` so the Alembic environment itself is written once, here.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine

from devinsider_common.db.engine import ensure_schema


def _config(script_location: Path, engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, schema: str, script_location: Path, revision: str = "head") -> None:
    """Create the service schema if needed and apply every migration up to `revision`."""
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

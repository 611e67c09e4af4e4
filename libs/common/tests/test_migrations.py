"""Replicas that start together migrate one at a time (PostgreSQL advisory lock per schema)."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from devinsider_common.db.migrations import migration_lock, upgrade


def _tables(engine: Engine, schema: str) -> list[str]:
    return inspect(engine).get_table_names(schema=schema)


def test_a_migration_waits_for_the_replica_holding_the_lock(
    pg_engine: Engine, pg_schema: tuple[str, str], migrations_dir: Path
) -> None:
    schema = pg_schema[1]
    done = threading.Event()

    def start_replica() -> None:
        upgrade(pg_engine, schema, migrations_dir)
        done.set()

    with migration_lock(pg_engine, schema):  # another replica is migrating
        migrating = threading.Thread(target=start_replica)
        migrating.start()
        assert not done.wait(0.5)
        assert "widgets" not in _tables(pg_engine, schema)
    migrating.join(10)
    assert done.is_set() and "widgets" in _tables(pg_engine, schema)


def test_replicas_starting_together_all_start_on_the_migrated_schema(
    pg_engine: Engine, pg_schema: tuple[str, str], migrations_dir: Path
) -> None:
    schema = pg_schema[1]
    errors: list[BaseException] = []

    def start_replica() -> None:
        try:
            upgrade(pg_engine, schema, migrations_dir)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    replicas = [threading.Thread(target=start_replica) for _ in range(4)]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join(30)
    assert errors == []
    with pg_engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == ["0001"]

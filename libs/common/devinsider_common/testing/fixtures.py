"""pytest fixtures: an own PostgreSQL schema, Redis key prefix and RabbitMQ vhost per test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from sqlalchemy import Engine

from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine, drop_schema, ensure_schema
from devinsider_common.testing import infra
from devinsider_common.testing.neighbours import Neighbours, start_neighbours


@contextmanager
def fresh_pg_schema() -> Iterator[tuple[str, str]]:
    """(database URL, schema name) of a fresh schema in the `test` database, dropped afterwards."""
    infra.require("127.0.0.1", 5432, "PostgreSQL")
    schema = infra.unique_name("t")
    admin = create_service_engine(infra.POSTGRES_URL, "public")
    ensure_schema(admin, schema)
    try:
        yield infra.POSTGRES_URL, schema
    finally:
        drop_schema(admin, schema)
        admin.dispose()


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL schema for one test (see `fresh_pg_schema`)."""
    with fresh_pg_schema() as found:
        yield found


@pytest.fixture(scope="module")
def module_pg_schema() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL schema shared by a module's tests (a module-scoped server's)."""
    with fresh_pg_schema() as found:
        yield found


@pytest.fixture
def pg_engine(pg_schema: tuple[str, str]) -> Iterator[Engine]:
    url, schema = pg_schema
    engine = create_service_engine(url, schema)
    yield engine
    engine.dispose()


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    """(Redis URL, key prefix); every key under the prefix is deleted afterwards."""
    infra.require("127.0.0.1", 6379, "Redis")
    prefix = infra.unique_name("test")
    yield infra.REDIS_URL, prefix
    client = redis.Redis.from_url(infra.REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def amqp_url() -> Iterator[str]:
    """URL of a fresh RabbitMQ vhost (guest has all rights), deleted afterwards."""
    infra.require(infra.AMQP_HOST, infra.AMQP_PORT, "RabbitMQ")
    vhost = infra.unique_name("test")
    infra.rabbitmqctl("add_vhost", vhost)
    infra.rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"amqp://guest:guest@{infra.AMQP_HOST}:{infra.AMQP_PORT}/{quote(vhost, safe='')}"
    finally:
        infra.rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def database(pg_schema: tuple[str, str]) -> tuple[str, str]:
    """(URL, schema) of a fresh PostgreSQL schema: where service tests run their transport and
    use-case wiring (the rules themselves are tested without I/O, on the in-memory unit of work)."""
    url, schema = pg_schema
    return str(url), str(schema)


@pytest.fixture
def neighbours(tmp_path: Path) -> Iterator[Neighbours]:
    """In-test doubles of the neighbour services (`devinsider_common.testing.neighbours`) for a service under
    test started with `base_settings(tmp_path, ...)` and its `<neighbour>_target` set to `neighbours.target`."""
    doubles = start_neighbours(tmp_path / "keys")
    yield doubles
    doubles.stop()


def _database(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> tuple[str, str]:
    if kind == "sqlite":
        return f"sqlite+pysqlite:///{tmp_path / 'service.sqlite3'}", "service"
    url, schema = request.getfixturevalue("pg_schema")
    return str(url), str(schema)


@pytest.fixture(params=["memory", "postgres", "sqlite"])
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str] | None:
    """None for the in-memory fake of a service's unit of work, else (URL, schema) as `each_database`:
    a repository contract runs its assertions on all three, which proves the fake honest."""
    return None if request.param == "memory" else _database(request, tmp_path, request.param)


@contextmanager
def migrated_engine(database: tuple[str, str], migrations_dir: Path) -> Iterator[Engine]:
    """An engine on `database` (URL, schema) migrated to the head of `migrations_dir`, disposed after."""
    url, schema = database
    engine = create_service_engine(url, schema)
    try:
        migrations.upgrade(engine, schema, migrations_dir)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(params=["postgres", "sqlite"])
def each_database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(URL, schema): a fresh PostgreSQL schema, or a SQLite file (the embedded default). For what
    only the databases can show (adapters, constraints, races, migrations): runs once on each."""
    return _database(request, tmp_path, request.param)

"""Applied migrations are frozen, and the shared tables they create are the library's.

A revision that called library code (`create_outbox_tables`, `create_page_tables`) would change when the
library does, after it was applied. So revisions import nothing but Alembic, SQLAlchemy and the standard
library, and this module checks that the outbox and page tables each service's migrations create are
still the ones `devinsider_common` defines: a change of the library needs a new revision in every service.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData

from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine
from devinsider_common.outbox.tables import define_outbox_tables
from devinsider_common.pages.tables import define_page_tables
from devinsider_common.pages.unlocks import define_unlock_table

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / f"{p.name}_service").is_dir())
PAGE_SERVICES = {"company", "investor", "program"}
UNLOCKED_PAGE_SERVICES = {"company", "investor"}  # they project who unlocked their pages
REVISIONS = sorted(ROOT.glob("services/*/*_service/migrations/versions/*.py"))
ALLOWED = {"alembic", "sqlalchemy", "__future__"}


def _migrations(name: str) -> Path:
    return ROOT / "services" / name / f"{name}_service" / "migrations"


def _imported_roots(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." if node.level else (node.module or "").split(".")[0]


def test_there_are_revisions_to_check() -> None:
    assert SERVICES and all(any(_migrations(name) in p.parents for p in REVISIONS) for name in SERVICES)


@pytest.mark.parametrize("path", REVISIONS, ids=lambda p: str(p.relative_to(ROOT / "services")))
def test_a_revision_imports_only_alembic_sqlalchemy_and_the_standard_library(path: Path) -> None:
    imported = set(_imported_roots(ast.parse(path.read_text(encoding="utf-8"))))
    foreign = {name for name in imported if name not in ALLOWED and name not in sys.stdlib_module_names}
    assert not foreign, f"{path.name} imports {sorted(foreign)}: write the operations out instead"


def _library_tables(name: str) -> MetaData:
    metadata = MetaData()
    define_outbox_tables(metadata)
    if name in PAGE_SERVICES:
        define_page_tables(metadata)
    if name in UNLOCKED_PAGE_SERVICES:
        define_unlock_table(metadata)
    return metadata


def _differences(engine: Engine, metadata: MetaData) -> list[Any]:
    """What Alembic's autogenerate would change in the migrated schema to match `metadata`, for the
    tables of `metadata` only (the service's own tables are not compared here)."""
    shared = set(metadata.tables)

    def include(name: str | None, kind: str, parent: Any) -> bool:
        if kind == "table":
            return name in shared
        return True

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": include, "compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("name", SERVICES)
def test_the_migrated_shared_tables_are_the_librarys_on_sqlite(name: str, tmp_path: Path) -> None:
    engine = create_service_engine(f"sqlite+pysqlite:///{tmp_path / 'db.sqlite3'}", name)
    try:
        migrations.upgrade(engine, name, _migrations(name))
        assert _differences(engine, _library_tables(name)) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", SERVICES)
def test_the_migrated_shared_tables_are_the_librarys_on_postgresql(name: str, pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    engine = create_service_engine(url, schema)
    try:
        migrations.upgrade(engine, schema, _migrations(name))
        assert _differences(engine, _library_tables(name)) == []
    finally:
        engine.dispose()

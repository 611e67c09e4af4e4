"""Every service's migrations: one head, an upgrade/downgrade round trip on PostgreSQL, and no drift between
the tables the code declares (`adapters.tables.metadata`) and those the revisions build; and the
`devinsider-migrate` command that moves and reads a schema by hand."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect

from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine
from devinsider_common.db.migrate_cli import SERVICES, current_revisions, main, migrations_dir, script_directory
from devinsider_common.outbox.tables import define_outbox_tables

pytestmark = pytest.mark.postgres


def _metadata(service: str) -> MetaData:
    """The service's tables and the outbox/inbox every service keeps (declared once, in the library)."""
    declared: MetaData = importlib.import_module(f"{service}_service.adapters.tables").metadata
    metadata = MetaData()
    for table in declared.tables.values():
        table.to_metadata(metadata)
    define_outbox_tables(metadata)
    return metadata


def _drift(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_has_one_head(service: str) -> None:
    assert len(script_directory(migrations_dir(service)).get_heads()) == 1


@pytest.mark.parametrize("service", SERVICES)
def test_revisions_round_trip_and_build_the_tables_the_code_declares(service: str, pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    engine = create_service_engine(url, schema)
    scripts = migrations_dir(service)
    head = script_directory(scripts).get_current_head()
    try:
        migrations.upgrade(engine, schema, scripts)
        assert current_revisions(engine) == (head,)
        assert _drift(engine, _metadata(service)) == []
        migrations.downgrade(engine, scripts, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrations.upgrade(engine, schema, scripts)
        assert current_revisions(engine) == (head,) and _drift(engine, _metadata(service)) == []
    finally:
        engine.dispose()


def test_the_command_reads_moves_and_checks_a_schema(
    pg_schema: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, schema = pg_schema
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_SCHEMA", schema)
    revisions = [s.revision for s in script_directory(migrations_dir("company")).walk_revisions()]  # newest first
    head, previous = revisions[0], revisions[1]

    assert main(["company", "check"]) == 1  # nothing applied yet
    assert "base (no revision)" in capsys.readouterr().out
    assert main(["company", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == f"company ({schema}): {head}"
    assert main(["company", "check"]) == 0
    capsys.readouterr()
    assert main(["company", "downgrade", previous]) == 0
    assert capsys.readouterr().out.strip() == f"company ({schema}): {previous}"
    assert main(["company", "check"]) == 1
    capsys.readouterr()
    assert main(["company", "history"]) == 0
    history = capsys.readouterr().out.splitlines()
    assert history[0].startswith(f"{previous} -> {head} (head)") and f"-> {previous} (current)" in history[1]
    assert main(["company", "downgrade", "no-such-rev"]) == 2
    assert "no revision 'no-such-rev'" in capsys.readouterr().err
    assert main(["company", "upgrade", head]) == 0 and main(["company", "check"]) == 0

"""`devinsider-migrate SERVICE COMMAND`: a service's schema migrations by hand (rollbacks, checks).

Services migrate their schema to head at start (docs/operations.md, Migrations); this command is for what
a start does not do: reading where a schema stands (`current`, `history`, `check` for scripts), and moving
it to a given revision (`upgrade REV`, `downgrade REV`, under the same advisory lock as a starting replica).
It reads the service's own environment (`DATABASE_URL`, `DATABASE_SCHEMA`...), so run it where the
service runs (`kubectl exec deploy/<service> -- devinsider-migrate <service> current`).

Exit status: 0, 1 when `check` finds the schema behind its head, 2 for a refused command.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine
from devinsider_common.settings import ServiceSettings
from devinsider_common.startup import EXIT_BAD_CONFIGURATION, load_settings

SERVICES = ("user", "company", "investor", "program", "matching", "billing", "contact", "notification")
EXIT_BEHIND = 1


def migrations_dir(service: str) -> Path:
    """`<service>_service/migrations`, found without importing the service."""
    spec = importlib.util.find_spec(f"{service}_service")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"devinsider-migrate: the {service} service is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "migrations"


def settings_class(service: str) -> type[ServiceSettings]:
    """The service's settings (`<Service>Settings` in `<service>_service.settings`)."""
    module = importlib.import_module(f"{service}_service.settings")
    found: type[ServiceSettings] = getattr(module, f"{service.capitalize()}Settings")
    return found


def script_directory(scripts: Path) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(scripts))
    return ScriptDirectory.from_config(config)


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions the schema is at (empty before its first migration)."""
    with engine.connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())


def _history(scripts: ScriptDirectory, current: tuple[str, ...]) -> list[str]:
    heads = set(scripts.get_heads())
    lines = []
    for script in scripts.walk_revisions():  # newest first
        marks = [m for m, on in (("head", script.revision in heads), ("current", script.revision in current)) if on]
        suffix = f" ({', '.join(marks)})" if marks else ""
        lines.append(f"{script.down_revision or 'base'} -> {script.revision}{suffix}: {script.doc or ''}".rstrip())
    return lines


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devinsider-migrate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("service", choices=SERVICES)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("current", help="print the revision the schema is at")
    commands.add_parser("history", help="list the revisions, newest first, marking head and current")
    commands.add_parser("check", help="exit 1 unless the schema is at its head")
    upgrade = commands.add_parser("upgrade", help="migrate up to REV (default: head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = commands.add_parser("downgrade", help="migrate down to REV (drops what later revisions added)")
    downgrade.add_argument("revision", help="a revision id, or `base` to remove every table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings(settings_class(args.service), "devinsider-migrate")
    scripts_path = migrations_dir(args.service)
    scripts = script_directory(scripts_path)
    engine = create_service_engine(settings.effective_database_url, settings.schema_name, pool_size=1)
    try:
        moving = args.command in ("upgrade", "downgrade") and args.revision not in ("head", "base")
        if moving and not _known(scripts, args.revision):  # alembic's own error is a traceback
            print(f"devinsider-migrate: no revision {args.revision!r} in {args.service}", file=sys.stderr)
            return EXIT_BAD_CONFIGURATION
        if args.command == "upgrade":
            migrations.upgrade(engine, settings.schema_name, scripts_path, args.revision)
        elif args.command == "downgrade":
            with migrations.migration_lock(engine, settings.schema_name):
                migrations.downgrade(engine, scripts_path, args.revision)
        current = current_revisions(engine)
        if args.command == "history":
            print("\n".join(_history(scripts, current)))
            return 0
        print(f"{args.service} ({settings.schema_name}): {', '.join(current) or 'base (no revision)'}")
        if args.command == "check" and set(current) != set(scripts.get_heads()):
            print(f"behind its head {', '.join(scripts.get_heads())}", file=sys.stderr)
            return EXIT_BEHIND
        return 0
    finally:
        engine.dispose()


def run() -> None:
    sys.exit(main())

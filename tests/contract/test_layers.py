"""The layers of every service import only downwards (DESIGN.md, "How a service is built").

- `domain/` is free of I/O: no SQLAlchemy, no gRPC, no generated protos, nothing of the service's
  other layers.
- `service_layer/` talks to the world through its ports: no SQLAlchemy, no `devinsider_common.db`,
  none of the service's adapters or entrypoints; the one exception is the SQL unit of work
  (`service_layer/unit_of_work.py`), the adapter that wires the repositories into a transaction.

The checker reads imports with `ast` (including imports inside functions and `TYPE_CHECKING`
blocks), so a lazy import cannot slip through.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent for p in ROOT.glob("services/*/*_service/__init__.py"))

STORAGE = ("sqlalchemy", "alembic", "psycopg", "devinsider_common.db")
TRANSPORT = ("grpc", "devinsider.", "google.protobuf", "pika", "redis")
SQL_UNIT_OF_WORK = "unit_of_work.py"


def imported_modules(source: str) -> Iterator[str]:
    """Every module an import statement of `source` names (`from x import y` yields x and x.y)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p.rstrip(".") or module.startswith(p if p.endswith(".") else p + ".") for p in prefixes)


def forbidden_imports(source: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted({m for m in imported_modules(source) if _under(m, forbidden)})


def _rules(package: str) -> dict[str, tuple[str, ...]]:
    own = (f"{package}.adapters", f"{package}.entrypoints", f"{package}.bootstrap")
    return {
        "domain": (*STORAGE, *TRANSPORT, *own, f"{package}.service_layer"),
        "service_layer": (*STORAGE, *own),
    }


def _cases() -> Iterator[object]:
    for package_dir in SERVICES:
        for layer in ("domain", "service_layer"):
            for module in sorted((package_dir / layer).glob("*.py")):
                if layer == "service_layer" and module.name == SQL_UNIT_OF_WORK:
                    continue
                yield pytest.param(package_dir.name, layer, module, id=str(module.relative_to(ROOT)))


def test_every_service_is_checked() -> None:
    assert {p.name for p in SERVICES} == {
        "user_service",
        "company_service",
        "investor_service",
        "program_service",
        "matching_service",
        "billing_service",
        "contact_service",
        "notification_service",
    }


@pytest.mark.parametrize(("package", "layer", "module"), list(_cases()))
def test_layer_imports_only_downwards(package: str, layer: str, module: Path) -> None:
    found = forbidden_imports(module.read_text(), _rules(package)[layer])
    assert not found, f"{module.relative_to(ROOT)} ({layer}) imports {found}"


def test_the_checker_sees_what_it_must_refuse() -> None:
    """The rule is only as good as the checker: lazy, aliased and nested imports are all seen."""
    source = (
        "from __future__ import annotations\n"
        "import typing\n"
        "if typing.TYPE_CHECKING:\n"
        "    from sqlalchemy.exc import IntegrityError\n"
        "def f():\n"
        "    import company_service.adapters.tables as t\n"
        "    from devinsider_common.db import uow\n"
        "from company_service.domain import model\n"
        "from devinsider_common.pagination import ListWindow\n"
    )
    assert forbidden_imports(source, _rules("company_service")["service_layer"]) == [
        "company_service.adapters.tables",
        "devinsider_common.db",
        "devinsider_common.db.uow",
        "sqlalchemy.exc",
        "sqlalchemy.exc.IntegrityError",
    ]
    assert forbidden_imports("from company_service.service_layer import app\n", _rules("company_service")["domain"])
    assert not forbidden_imports("import sqlalchemy_utils_like\n", STORAGE)  # a prefix is a module boundary

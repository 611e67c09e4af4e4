"""docs/errors.md lists every `ErrorInfo.reason` the code raises, and nothing the code does not raise.

Reasons are found in the source by how errors are built: a `reason=` keyword with a literal, the
literal reasons of a few helpers that take them positionally, and the JWT verifier's reason table.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
REASON = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z]{4,}$")
# Helpers whose positional string arguments are reasons (name -> index of the reason argument).
POSITIONAL_REASONS = {"_fail": 0, "_require_state": 2, "AccessDecision": 1}
SOURCES = [ROOT / "libs" / "common" / "devinsider_common", *sorted((ROOT / "services").glob("*/*_service"))]


def _source_files() -> Iterator[Path]:
    for root in SOURCES:
        for path in root.rglob("*.py"):
            if "migrations" not in path.parts and "testing" not in path.parts:
                yield path


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and REASON.match(node.value):
        return node.value
    return None


def _reasons_in(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "reason" and (value := _literal(keyword.value)):
                    yield value
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            index = POSITIONAL_REASONS.get(name)
            if index is not None and len(node.args) > index and (value := _literal(node.args[index])):
                yield value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.target.id == "reason" and node.value is not None and (value := _literal(node.value)):
                yield value
            if node.target.id == "_REASONS" and isinstance(node.value, ast.List):
                for item in node.value.elts:
                    if isinstance(item, ast.Tuple) and (value := _literal(item.elts[1])):
                        yield value


def raised_reasons() -> set[str]:
    found: set[str] = set()
    for path in _source_files():
        found.update(_reasons_in(ast.parse(path.read_text(), str(path))))
    # `DomainError`'s own default: what is raised is always one of its subclasses, with their reasons.
    return found - {"ERROR"}


def documented_reasons() -> set[str]:
    found: set[str] = set()
    reasons_section = DOC.read_text().split("\n## Reasons\n", 1)[1]
    for line in reasons_section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            found.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return found


def test_the_scan_finds_reasons_of_every_kind_of_source() -> None:
    # Guards the scanner itself: a keyword reason, a positional one, a class default, the JWT table.
    assert {"INSUFFICIENT_CREDITS", "COMPANY_NOT_CLAIMABLE", "INVALID_ARGUMENT", "TOKEN_EXPIRED"} <= raised_reasons()


def test_every_raised_reason_is_documented() -> None:
    missing = raised_reasons() - documented_reasons()
    assert not missing, f"reasons raised but not in docs/errors.md: {sorted(missing)}"


def test_every_documented_reason_is_raised() -> None:
    source = "\n".join(path.read_text() for path in _source_files())
    invented = {reason for reason in documented_reasons() if f'"{reason}"' not in source}
    assert not invented, f"docs/errors.md lists reasons no code raises: {sorted(invented)}"

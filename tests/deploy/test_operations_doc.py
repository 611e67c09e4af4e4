"""docs/operations.md: its configuration tables are the settings classes, variable by variable.

Each `### <service> service` table lists the variables the service's class declares itself (new fields
and redefined defaults), the `### Shared by every service` table those of ServiceSettings with the
authentication and broker settings, the `### page services` table those PageServiceSettings adds for
company, investor and program, the `### entitlements` table those of EntitlementSettings, mixed into the
services that enforce a plan; defaults are written as an operator would set them."""

from __future__ import annotations

import re

import pytest

from devinsider_common.entitlements import EntitlementSettings
from devinsider_common.pages.settings import PageServiceSettings
from devinsider_common.settings import ServiceSettings

from .suite import OPERATIONS_DOC, SERVICES, EnvField, env_fields, own_env_fields, render_default

SHARED = "shared"
PAGE = "page"
ENTITLEMENTS = "entitlements"


def _cells(line: str) -> list[str]:
    # `\|` escapes a pipe inside a cell (PromQL in the alerts table); none occurs in the settings tables.
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def configuration_tables() -> dict[str, dict[str, str]]:
    """`### <first word>` -> {variable: default} for every table of the `## Configuration` section."""
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in section.splitlines():
        if line.startswith("### "):
            current = tables.setdefault(line[4:].split()[0].lower(), {})
        elif line.startswith("| `") and current is not None:
            variable, default, *_ = _cells(line)
            name = variable.strip("`")
            assert name not in current, f"{name} is listed twice"
            current[name] = default.removeprefix("`").removesuffix("`")
    return tables


TABLES = configuration_tables()


def _compare(table: dict[str, str], fields: dict[str, EnvField], what: str) -> None:
    assert set(table) == set(fields), (
        f"{what}: missing from the doc {sorted(set(fields) - set(table))}, "
        f"not settings {sorted(set(table) - set(fields))}"
    )
    for name, field in fields.items():
        assert table[name] == render_default(field.default), f"{what}: {name}"


def test_there_is_a_table_for_the_shared_settings_and_one_per_service() -> None:
    assert set(TABLES) == {SHARED, PAGE, ENTITLEMENTS, *SERVICES}


def test_the_shared_table_is_the_common_settings() -> None:
    _compare(TABLES[SHARED], env_fields(ServiceSettings), "shared")


def test_the_page_table_is_what_the_page_services_base_adds() -> None:
    _compare(TABLES[PAGE], own_env_fields(PageServiceSettings), "page services")


def test_the_entitlements_table_is_what_the_mixin_declares() -> None:
    _compare(TABLES[ENTITLEMENTS], own_env_fields(EntitlementSettings), "entitlements")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_table_is_what_its_settings_class_adds_or_redefines(name: str) -> None:
    _compare(TABLES[name], own_env_fields(SERVICES[name]), name)


@pytest.mark.parametrize("name", SERVICES)
def test_the_doc_covers_every_variable_a_service_reads(name: str) -> None:
    documented = set(TABLES[SHARED]) | set(TABLES[name])
    if issubclass(SERVICES[name], PageServiceSettings):
        documented |= set(TABLES[PAGE])
    if issubclass(SERVICES[name], EntitlementSettings):
        documented |= set(TABLES[ENTITLEMENTS])
    assert documented == set(env_fields(SERVICES[name]))

"""Request messages -> use-case arguments (names, enums, filters), every bad field named."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import TypeVar

from company_service.adapters.proto_mapping import COMPANY_STATES
from company_service.domain.directory import DirectoryQuery
from company_service.domain.model import CompanySize, CompanyState, LicensingModel
from devinsider.company.v1 import company_pb2
from devinsider_common.errors import Violations

_STATES = {v: k for k, v in COMPANY_STATES.items()}
E = TypeVar("E", bound=IntEnum)


def _enums(checks: Violations, kind: type[E], values: Iterable[int], path: str) -> tuple[E, ...]:
    found: list[E] = []
    for i, value in enumerate(values):
        try:
            found.append(kind(value))
        except ValueError:
            checks.add(f"{path}[{i}]", f"unknown value {value}")
    return tuple(found)


def directory_query(request: company_pb2.ListCompaniesRequest) -> DirectoryQuery:
    checks = Violations()
    states: list[CompanyState] = []
    for i, value in enumerate(request.states):
        state = _STATES.get(value)
        if state is None:
            checks.add(f"states[{i}]", f"unknown value {value}")
        else:
            states.append(state)
    checks.check(len(request.query) <= 200, "query", "must be at most 200 characters")
    query = DirectoryQuery(
        query=request.query.strip(),
        industries=tuple(request.industries),
        solution_categories=tuple(request.solution_categories),
        hq_country_codes=tuple(c.strip().upper() for c in request.hq_country_codes),
        target_regions=tuple(request.target_regions),
        company_sizes=_enums(checks, CompanySize, request.company_sizes, "company_sizes"),
        licensing_models=_enums(checks, LicensingModel, request.licensing_models, "licensing_models"),
        looking_for_funding=request.looking_for_funding if request.HasField("looking_for_funding") else None,
        states=tuple(states),
        order_by=request.order_by,
    )
    checks.raise_if_any("invalid filters")
    return query

"""Request messages -> use-case arguments (names, enums, filters), every bad field named."""

from __future__ import annotations

from company_service.adapters.proto_mapping import COMPANY_STATES
from company_service.domain.content import CompanySize, LicensingModel
from company_service.domain.directory import DirectoryQuery
from company_service.domain.model import CompanyState
from devinsider.company.v1 import company_pb2
from devinsider_common.errors import Violations
from devinsider_common.grpc.requests import repeated_enum

_STATES: dict[int, CompanyState] = {v: k for k, v in COMPANY_STATES.items()}


def directory_query(request: company_pb2.ListCompaniesRequest) -> DirectoryQuery:
    checks = Violations()
    states: tuple[CompanyState, ...] = repeated_enum(_STATES, request.states, "states", checks)
    checks.check(len(request.query) <= 200, "query", "must be at most 200 characters")
    query = DirectoryQuery(
        query=request.query.strip(),
        industries=tuple(request.industries),
        solution_categories=tuple(request.solution_categories),
        hq_country_codes=tuple(c.strip().upper() for c in request.hq_country_codes),
        target_regions=tuple(request.target_regions),
        company_sizes=repeated_enum(CompanySize, request.company_sizes, "company_sizes", checks),
        licensing_models=repeated_enum(LicensingModel, request.licensing_models, "licensing_models", checks),
        looking_for_funding=request.looking_for_funding if request.HasField("looking_for_funding") else None,
        states=states,
        order_by=request.order_by,
        orphaned=request.orphaned,
    )
    checks.raise_if_any("invalid filters")
    return query

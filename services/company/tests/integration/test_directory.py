"""The company directory: filters, orders, AIP pagination (stable order, cap, foreign tokens), states."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from company_service.bootstrap import CompanyService
from company_service.domain.model import CompanySize, CompanyState, Financials, LicensingModel
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.grpc.status import field_violations, from_rpc_error
from devinsider_common.pages.roles import PageRole

from ..conftest import Caller, FakeClock
from ..helpers import seed_company

Stub = company_pb2_grpc.CompanyServiceStub
c = company_pb2


def _seed_directory(service: CompanyService, clock: FakeClock) -> dict[str, str]:
    ids = {}
    rows = [
        ("Zeta Soft", "FR", ("fintech",), CompanySize.S_1_10, (LicensingModel.SAAS,), True),
        ("alpha labs", "DE", ("health",), CompanySize.S_11_50, (LicensingModel.ON_PREMISE,), False),
        ("Mid Corp", "FR", ("health", "fintech"), CompanySize.S_51_200, (LicensingModel.SAAS,), False),
        ("Beta Works", "US", (), CompanySize.UNSPECIFIED, (), True),
    ]
    for name, country, industries, size, models, funding in rows:
        clock.advance(seconds=1)
        ids[name] = seed_company(
            service, clock(), {f"kc-{name.split()[0].lower()}": PageRole.OWNER},
            display_name=name, hq_country_code=country, industries=industries, company_size=size,
            licensing_models=models, financials=Financials(looking_for_funding=funding),
            description=f"{name} builds software",
        )  # fmt: skip
    clock.advance(seconds=1)  # strictly newer: equal times would fall back on the id order
    ids["pre"] = seed_company(service, clock(), {}, CompanyState.PRE_LISTED, display_name="Pre Listed")
    ids["pending"] = seed_company(service, clock(), {}, CompanyState.CLAIM_PENDING, display_name="Pending Claim")
    return ids


def _names(response: c.ListCompaniesResponse) -> list[str]:
    return [company.display_name for company in response.companies]


def test_filters_combine_with_and_values_with_or(stub: Stub, service: CompanyService, clock: FakeClock) -> None:
    _seed_directory(service, clock)
    everything = stub.ListCompanies(c.ListCompaniesRequest())
    assert _names(everything) == ["alpha labs", "Beta Works", "Mid Corp", "Pre Listed", "Zeta Soft"]
    assert everything.total_size == 5 and not everything.companies[0].HasField("contact")
    cases: list[tuple[c.ListCompaniesRequest, list[str]]] = [
        (c.ListCompaniesRequest(industries=["fintech"]), ["Mid Corp", "Zeta Soft"]),
        (c.ListCompaniesRequest(industries=["fintech", "health"]), ["alpha labs", "Mid Corp", "Zeta Soft"]),
        (c.ListCompaniesRequest(industries=["health"], hq_country_codes=["FR"]), ["Mid Corp"]),
        (
            c.ListCompaniesRequest(company_sizes=[c.COMPANY_SIZE_1_10, c.COMPANY_SIZE_11_50]),
            ["alpha labs", "Zeta Soft"],
        ),
        (c.ListCompaniesRequest(licensing_models=[c.LICENSING_MODEL_SAAS]), ["Mid Corp", "Zeta Soft"]),
        (c.ListCompaniesRequest(looking_for_funding=True), ["Beta Works", "Zeta Soft"]),
        (c.ListCompaniesRequest(looking_for_funding=False, hq_country_codes=["fr"]), ["Mid Corp"]),
        (c.ListCompaniesRequest(query="ZETA builds"), ["Zeta Soft"]),
        (c.ListCompaniesRequest(query="100%_"), []),
        (c.ListCompaniesRequest(states=[c.COMPANY_STATE_PRE_LISTED]), ["Pre Listed"]),
    ]
    for request, expected in cases:
        assert _names(stub.ListCompanies(request)) == expected, request


def test_orders_and_pages_are_stable_and_capped(
    stub: Stub, service: CompanyService, clock: FakeClock, caller: Callable[..., Caller]
) -> None:
    _seed_directory(service, clock)
    newest = stub.ListCompanies(c.ListCompaniesRequest(order_by="create_time desc"))
    assert _names(newest) == ["Pre Listed", "Beta Works", "Mid Corp", "alpha labs", "Zeta Soft"]
    for order in ("display_name", "create_time desc", "update_time desc"):
        seen: list[str] = []
        token = ""
        while True:
            page = stub.ListCompanies(c.ListCompaniesRequest(page_size=2, page_token=token, order_by=order))
            assert len(page.companies) <= 2 and page.total_size == 5
            seen += _names(page)
            token = page.next_page_token
            if not token:
                break
        assert seen == _names(stub.ListCompanies(c.ListCompaniesRequest(order_by=order)))
    first = stub.ListCompanies(c.ListCompaniesRequest(page_size=1))
    with pytest.raises(grpc.RpcError) as foreign:
        stub.ListCompanies(c.ListCompaniesRequest(page_size=1, page_token=first.next_page_token, industries=["x"]))
    assert foreign.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = from_rpc_error(foreign.value)
    assert status is not None and [v.field for v in field_violations(status)] == ["page_token"]
    for bad in (
        c.ListCompaniesRequest(page_token="garbage!"),
        c.ListCompaniesRequest(page_size=-1),
        c.ListCompaniesRequest(order_by="founding_year"),
        c.ListCompaniesRequest(company_sizes=[42]),  # type: ignore[list-item]
    ):
        with pytest.raises(grpc.RpcError) as error:
            stub.ListCompanies(bad)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    capped = service.settings.max_page_size
    assert len(stub.ListCompanies(c.ListCompaniesRequest(page_size=capped * 10)).companies) == 5


def test_hidden_states_are_for_staff_and_caller_is_member_needs_a_token(
    stub: Stub, service: CompanyService, clock: FakeClock, caller: Callable[..., Caller]
) -> None:
    _seed_directory(service, clock)
    pending = c.ListCompaniesRequest(states=[c.COMPANY_STATE_CLAIM_PENDING])
    with pytest.raises(grpc.RpcError) as denied:
        stub.ListCompanies(pending, metadata=caller("kc-isv").metadata)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    staff = caller("kc-staff", roles=("admin",))
    listed = stub.ListCompanies(pending, metadata=staff.metadata)
    assert _names(listed) == ["Pending Claim"] and listed.companies[0].viewer_has_full_access
    with pytest.raises(grpc.RpcError) as anonymous:
        stub.ListCompanies(c.ListCompaniesRequest(caller_is_member=True))
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    mine = stub.ListCompanies(c.ListCompaniesRequest(caller_is_member=True), metadata=caller("kc-mid").metadata)
    assert _names(mine) == ["Mid Corp"] and mine.companies[0].viewer_role == 1

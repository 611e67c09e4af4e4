"""The company directory on the in-memory unit of work: filters, orders, windows and their tokens, states.

The same filters and orders on PostgreSQL and SQLite: tests/adapters/test_company_store.py.
"""

from __future__ import annotations

import grpc

from company_service.domain.content import CompanySize, Financials, LicensingModel
from company_service.domain.directory import DirectoryQuery
from company_service.domain.model import CompanyState
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure

from ..fakes import STAFF, World, person, unit_settings, world


def _directory(max_page_size: int = 200) -> World:
    w = world(unit_settings(max_page_size=max_page_size))
    rows = [
        ("Zeta Soft", "FR", ("fintech",), CompanySize.S_1_10, (LicensingModel.SAAS,), True),
        ("alpha labs", "DE", ("health",), CompanySize.S_11_50, (LicensingModel.ON_PREMISE,), False),
        ("Mid Corp", "FR", ("health", "fintech"), CompanySize.S_51_200, (LicensingModel.SAAS,), False),
        ("Beta Works", "US", (), CompanySize.UNSPECIFIED, (), True),
    ]
    for name, country, industries, size, models, funding in rows:
        w.clock.advance(seconds=1)
        w.seed(
            {f"kc-{name.split()[0].lower()}": PageRole.OWNER},
            display_name=name, hq_country_code=country, industries=industries, company_size=size,
            licensing_models=models, financials=Financials(looking_for_funding=funding),
            description=f"{name} builds software", solution_categories=("analytics",) if funding else (),
            target_regions=("europe",) if country != "US" else (),
        )  # fmt: skip
    w.clock.advance(seconds=1)
    w.seed({}, CompanyState.PRE_LISTED, display_name="Pre Listed")
    w.seed({}, CompanyState.CLAIM_PENDING, display_name="Pending Claim")
    return w


def _names(w: World, query: DirectoryQuery, who: Principal | None = None, **options: object) -> list[str]:
    views, _, _ = w.app.companies.list_companies(who, query, bool(options.get("mine")), 100, "")
    return [v.company.content.display_name for v in views]


def test_filters_combine_with_and_values_with_or() -> None:
    w = _directory()
    views, token, total = w.app.companies.list_companies(None, DirectoryQuery(), False, 10, "")
    assert [v.company.content.display_name for v in views] == [
        "alpha labs",
        "Beta Works",
        "Mid Corp",
        "Pre Listed",
        "Zeta Soft",
    ]
    assert (token, total) == ("", 5) and not any(v.full for v in views)
    cases: list[tuple[DirectoryQuery, list[str]]] = [
        (DirectoryQuery(industries=("fintech",)), ["Mid Corp", "Zeta Soft"]),
        (DirectoryQuery(industries=("fintech", "health")), ["alpha labs", "Mid Corp", "Zeta Soft"]),
        (DirectoryQuery(industries=("health",), hq_country_codes=("FR",)), ["Mid Corp"]),
        (DirectoryQuery(company_sizes=(CompanySize.S_1_10, CompanySize.S_11_50)), ["alpha labs", "Zeta Soft"]),
        (DirectoryQuery(licensing_models=(LicensingModel.SAAS,)), ["Mid Corp", "Zeta Soft"]),
        (DirectoryQuery(solution_categories=("analytics",)), ["Beta Works", "Zeta Soft"]),
        (DirectoryQuery(target_regions=("europe",)), ["alpha labs", "Mid Corp", "Zeta Soft"]),
        (DirectoryQuery(looking_for_funding=True), ["Beta Works", "Zeta Soft"]),
        (DirectoryQuery(looking_for_funding=False, hq_country_codes=("FR",)), ["Mid Corp"]),
        (DirectoryQuery(query="ZETA builds"), ["Zeta Soft"]),
        (DirectoryQuery(query="100%_"), []),
        (DirectoryQuery(states=(CompanyState.PRE_LISTED,)), ["Pre Listed"]),
    ]
    for query, expected in cases:
        assert _names(w, query) == expected, query


def test_orders_and_windows_are_stable_and_capped() -> None:
    w = _directory()
    newest = DirectoryQuery(order_by="create_time desc")
    assert _names(w, newest) == ["Pre Listed", "Beta Works", "Mid Corp", "alpha labs", "Zeta Soft"]
    for order in ("display_name", "Create_Time  DESC", "update_time desc", "display_name asc"):
        query = DirectoryQuery(order_by=order)
        seen: list[str] = []
        token = ""
        while True:
            views, token, total = w.app.companies.list_companies(None, query, False, 2, token)
            assert len(views) <= 2 and total == 5
            seen += [v.company.content.display_name for v in views]
            if not token:
                break
        assert seen == _names(w, query) and len(seen) == 5
    small = _directory(max_page_size=3)
    capped, token, _ = small.app.companies.list_companies(None, DirectoryQuery(), False, 1000, "")
    assert len(capped) == 3 and token


def test_bad_requests_name_their_field() -> None:
    w = _directory()
    _, token, _ = w.app.companies.list_companies(None, DirectoryQuery(), False, 1, "")
    cases = [
        (DirectoryQuery(industries=("x",)), 1, token, "page_token"),  # issued for other filters
        (DirectoryQuery(), 1, "garbage!", "page_token"),
        (DirectoryQuery(), -1, "", "page_size"),
        (DirectoryQuery(order_by="founding_year"), 0, "", "order_by"),
    ]
    for query, size, page_token, path in cases:
        found = failure(lambda q=query, s=size, t=page_token: w.app.companies.list_companies(None, q, False, s, t))  # type: ignore[misc]
        assert (found.code, found.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [path]), query


def test_hidden_states_are_for_staff_and_caller_is_member_needs_a_caller() -> None:
    w = _directory()
    pending = DirectoryQuery(states=(CompanyState.CLAIM_PENDING,))
    assert failure(lambda: _names(w, pending, person("kc-isv"))) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "STATE_FILTER_STAFF_ONLY"
    )
    views, _, _ = w.app.companies.list_companies(STAFF, pending, False, 0, "")
    assert [(v.company.content.display_name, v.full) for v in views] == [("Pending Claim", True)]
    assert failure(lambda: _names(w, DirectoryQuery(), None, mine=True)) == Failure(
        grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING"
    )
    mine, _, total = w.app.companies.list_companies(person("kc-mid"), DirectoryQuery(), True, 0, "")
    assert [(v.company.content.display_name, v.role, v.full) for v in mine] == [("Mid Corp", PageRole.OWNER, False)]
    assert total == 1
    # A member listing everything sees their role on their own page only.
    everything, _, _ = w.app.companies.list_companies(person("kc-mid"), DirectoryQuery(), False, 0, "")
    assert {v.company.content.display_name: v.role for v in everything}["Mid Corp"] is PageRole.OWNER
    assert sum(1 for v in everything if v.role is not None) == 1


def test_orphaned_pages_are_listed_to_staff_and_services_only() -> None:
    w = _directory()
    alone = w.seed({}, display_name="Alone Ltd")  # its last member's account was deleted
    with w.uow() as uow:
        assert uow.orphans.mark(alone, w.clock())
        uow.commit()
    orphaned = DirectoryQuery(orphaned=True)
    for caller in (STAFF, person("svc-crm", ("service",))):
        assert _names(w, orphaned, caller) == ["Alone Ltd"]
    outsiders: tuple[Principal | None, ...] = (None, person("kc-isv"), person("kc-mid"))
    for outsider in outsiders:
        assert failure(lambda c=outsider: _names(w, orphaned, c)) == Failure(  # type: ignore[misc]
            grpc.StatusCode.PERMISSION_DENIED, "ORPHAN_FILTER_STAFF_ONLY"
        )
    assert "Alone Ltd" in _names(w, DirectoryQuery())  # still in the directory for everyone

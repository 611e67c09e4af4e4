"""The contract of the company unit of work and its page store, run with the same assertions on the
in-memory fake (what the use-case tests run on), on PostgreSQL and on SQLite: so the fake is honest.

The shared `each_store` fixture gives the three cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import insert

from company_service.adapters.tables import companies
from company_service.bootstrap import MIGRATIONS
from company_service.domain.content import CompanyContent, CompanySize, Financials, LicensingModel
from company_service.domain.directory import DirectoryQuery, position
from company_service.domain.model import Company, CompanyState, Logo
from company_service.service_layer.ports import CompanyUnitOfWork
from company_service.service_layer.unit_of_work import SqlCompanyUnitOfWork
from devinsider.company.v1 import events_pb2
from devinsider_common.clock import as_utc
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.errors import DomainError
from devinsider_common.pages.model import Member
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.fixtures import migrated_engine
from devinsider_common.testing.memory import MemoryUnitOfWork
from devinsider_common.testing.pages import check_orphan_mark, check_page_for_viewer, page_updates
from devinsider_common.unit_of_work import DuplicateRecord, UnitOfWorkFactory

from ..fakes import FakeCompanyUow, FakeStore
from ..old_rows import OLD_CLAIM, OLD_CLAIM_VALUE, OLD_PROFILE, RICH

UowFactory = UnitOfWorkFactory[CompanyUnitOfWork]
T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def uow(each_store: tuple[str, str] | None) -> Iterator[UowFactory]:
    if each_store is None:
        store = FakeStore()
        yield partial(FakeCompanyUow, store)
        return
    with migrated_engine(each_store, MIGRATIONS) as engine:
        yield partial(SqlCompanyUnitOfWork, engine, "https://web.example/accept", lambda i: f"/logo/{i}")


def _company(name: str, minute: int = 0, founder: str = "", **fields: Any) -> Company:
    """A page created `minute` minutes after T0, with an id in creation order."""
    when = T0 + timedelta(minutes=minute)
    content = fields.pop("content", None) or CompanyContent(display_name=name, **fields.pop("c", {}))
    values: dict[str, Any] = {"created_at": when, "updated_at": when, "creator": "kc-ada", **fields}
    return Company(f"01900000-0000-7000-8000-{minute:012d}", content, founder=founder, **values)


def _add(uow: UowFactory, *pages: Company) -> None:
    with uow() as u:
        for page in pages:
            u.companies.add(page)
        u.commit()


def _utc(company: Company | None) -> Company | None:
    """SQLite gives naive datetimes back (in UTC); compare instants."""
    if company is None:
        return None
    deleted, orphaned = company.deleted_at, company.orphaned_at
    return replace(
        company,
        created_at=as_utc(company.created_at) if company.created_at else None,
        updated_at=as_utc(company.updated_at) if company.updated_at else None,
        deleted_at=as_utc(deleted) if deleted else None,
        orphaned_at=as_utc(orphaned) if orphaned else None,
    )


def test_a_page_reads_back_as_written_once_committed(uow: UowFactory) -> None:
    page = _company(
        "x",
        1,
        "kc-ada",
        content=RICH,
        idempotency_key="r-1",
        logo=Logo("k/1.png", "image/png"),
        claim=OLD_CLAIM_VALUE,
        orphaned_at=T0 + timedelta(hours=1),
    )
    with uow() as u:
        u.companies.add(page)
        assert _utc(u.companies.get(page.id)) == page  # the transaction sees its own write
    with uow() as u:  # not committed: gone
        assert u.companies.get(page.id) is None
    _add(uow, page)
    with uow() as u:
        assert _utc(u.companies.get(page.id, lock=True)) == page
        assert _utc(u.companies.by_idempotency_key("kc-ada", "r-1")) == page
        assert u.companies.by_idempotency_key("kc-bob", "r-1") is None
        assert _utc(u.companies.live_founded_by("kc-ada")) == page
        assert u.companies.live_founded_by("kc-bob") is None
        assert {k: _utc(v) for k, v in u.companies.get_many([page.id, page.id, "nope"]).items()} == {page.id: page}
        assert u.page_title(page.id) == u.companies.title(page.id) == "Acmé Analytics"
        assert u.companies.titles([page.id, "nope"]) == {page.id: "Acmé Analytics"}


def test_a_row_written_in_the_old_format_loads(uow: UowFactory) -> None:
    """Rows stored before the typed to/from functions (the reflective codec's JSON) load unchanged;
    on the fake, which holds objects, the same page is written through the store."""
    page = _company("x", 1, content=RICH, claim=OLD_CLAIM_VALUE)
    with uow() as u:
        if isinstance(u, SqlCompanyUnitOfWork):
            row = {
                "id": page.id, "display_name": "Acmé Analytics", "sort_name": "acmé analytics", "search_text": "",
                "hq_country_code": "FR", "company_size": 2, "looking_for_funding": True, "state": "active",
                "profile": OLD_PROFILE, "logo_key": None, "logo_content_type": None, "claim": OLD_CLAIM,
                "founder": "", "creator": "kc-ada", "idempotency_key": None, "created_at": T0 + timedelta(minutes=1),
                "updated_at": T0 + timedelta(minutes=1), "deleted_at": None, "version": 1,
            }  # fmt: skip
            u.connection.execute(insert(companies).values(**row))
        else:
            u.companies.add(page)
        u.commit()
    with uow() as u:
        assert _utc(u.companies.get(page.id)) == page


def test_unique_keys_request_id_and_one_live_page_per_founder(uow: UowFactory) -> None:
    _add(uow, _company("First", 1, "kc-ada", idempotency_key="r-1"), _company("No key", 2), _company("No key", 3))
    with pytest.raises(DuplicateRecord), uow() as u:
        u.companies.add(_company("Twin", 4, idempotency_key="r-1"))
    with pytest.raises(DuplicateRecord), uow() as u:
        u.companies.add(_company("Second page", 5, "kc-ada"))
    with pytest.raises(DuplicateRecord), uow() as u:
        u.companies.add(_company("Same id", 1))
    _add(uow, _company("Other caller", 6, creator="kc-bob", idempotency_key="r-1"))
    # A claim makes its claimant founder: the same key holds on save.
    with uow() as u:
        other = u.companies.get(_company("", 2).id)
    assert other is not None
    with pytest.raises(DuplicateRecord), uow() as u:
        u.companies.save(replace(other, founder="kc-ada"))
        u.commit()
    # Deleted pages found nothing.
    with uow() as u:
        first = u.companies.get(_company("", 1).id)
        assert first is not None
        u.companies.save(replace(first.deleted(T0), founder="kc-ada"))
        u.commit()
    _add(uow, _company("Again", 7, "kc-ada"))
    with uow() as u:
        assert [c.content.display_name for c in [u.companies.live_founded_by("kc-ada")] if c] == ["Again"]


def test_save_checks_the_version_and_bumps_it(uow: UowFactory) -> None:
    page = _company("Alpha", 1, c={"industries": ("fintech",)})
    _add(uow, page)
    changed = replace(page, content=replace(page.content, display_name="Beta", industries=("health",)))
    with uow() as u:
        saved = u.companies.save(changed)
        u.commit()
    assert saved.version == 2
    with uow() as u:
        assert _utc(u.companies.get(page.id)) == saved
        assert u.companies.list_after(DirectoryQuery(industries=("fintech",)), ListWindow(10), None).pages == []
        assert [
            c.id for c in u.companies.list_after(DirectoryQuery(industries=("health",)), ListWindow(10), None).pages
        ] == [page.id]
    with pytest.raises(DomainError) as stale, uow() as u:
        u.companies.save(changed)  # version 1: someone saved version 2 meanwhile
    assert stale.value.reason == "CONCURRENT_UPDATE"
    with uow() as u:
        u.companies.save(saved.deleted(T0 + timedelta(hours=1)))
        u.commit()
    with uow() as u:
        assert u.companies.title(page.id) is None and u.page_title(page.id) is None
        assert u.companies.titles([page.id]) == {page.id: "Beta"}


def test_a_page_is_read_for_its_viewer_with_role_and_unlockers_in_one_go(uow: UowFactory) -> None:
    page, other = _company("Viewed", 1), _company("Other", 2, state=CompanyState.DELETED)
    _add(uow, page, other)
    check_page_for_viewer(uow, lambda u: u.companies, page.id, other.id, unlocks=True)


def _updated_events(u: CompanyUnitOfWork) -> list[tuple[list[str], bool]]:
    assert isinstance(u, SqlUnitOfWork | MemoryUnitOfWork)
    return page_updates(u, events_pb2.CompanyUpdated, "company")


def test_the_orphan_mark_is_written_once_with_its_event_and_cleared(uow: UowFactory) -> None:
    page = _company("Alone", 1)
    _add(uow, page, _company("Gone", 2, state=CompanyState.DELETED))
    later = T0 + timedelta(days=1)

    def marked() -> None:
        with uow() as u:
            stored = _utc(u.companies.get(page.id))
            assert stored is not None and (stored.orphaned_at, stored.updated_at, stored.version) == (later, later, 2)
            assert _updated_events(u) == [(["orphan_time"], True)]  # the mark travels with the page
            assert [
                c.id for c in u.companies.list_after(DirectoryQuery(orphaned=True), ListWindow(10), None).pages
            ] == [page.id]

    check_orphan_mark(uow, page.id, _company("", 2).id, later, marked)
    with uow() as u:
        assert _updated_events(u) == [(["orphan_time"], True), (["orphan_time"], False)]
        assert u.companies.list_after(DirectoryQuery(orphaned=True), ListWindow(1), None).total == 0


@pytest.fixture
def directory(uow: UowFactory) -> list[Company]:
    """Five live pages, a pending and a deleted one; kc-mid is a member of Mid Corp."""
    rows = [
        ("Zeta Soft", "FR", ("fintech",), CompanySize.S_1_10, (LicensingModel.SAAS,), True),
        ("alpha labs", "DE", ("health",), CompanySize.S_11_50, (LicensingModel.ON_PREMISE,), False),
        ("Mid Corp", "FR", ("health", "fintech"), CompanySize.S_51_200, (LicensingModel.SAAS,), False),
        ("Beta Works", "US", (), CompanySize.UNSPECIFIED, (), True),
    ]
    pages = [
        _company(
            name,
            minute,
            updated_at=T0 + timedelta(minutes=10 - minute),
            c={
                "hq_country_code": country,
                "industries": industries,
                "company_size": size,
                "licensing_models": models,
                "financials": Financials(looking_for_funding=funding),
                "description": f"{name} builds 100% software",
                "solution_categories": ("analytics",) if funding else (),
                "target_regions": ("europe",) if funding else (),
            },
        )
        for minute, (name, country, industries, size, models, funding) in enumerate(rows, start=1)
    ]
    pages[3] = replace(pages[3], orphaned_at=T0)  # Beta Works lost its last member
    pages.append(_company("Pre Listed", 5, state=CompanyState.PRE_LISTED))
    pages.append(_company("Pending Claim", 6, state=CompanyState.CLAIM_PENDING))
    pages.append(_company("Gone", 7, state=CompanyState.DELETED))
    _add(uow, *pages)
    with uow() as u:
        u.members.add(Member(pages[2].id, "kc-mid", PageRole.OWNER, "", "Mid", "mid@example.com", T0, T0))
        u.commit()
    return pages


def _names(uow: UowFactory, query: DirectoryQuery, size: int = 10) -> list[str]:
    with uow() as u:
        return [c.content.display_name for c in u.companies.list_after(query, ListWindow(size), None).pages]


def test_directory_filters(uow: UowFactory, directory: list[Company]) -> None:
    assert _names(uow, DirectoryQuery()) == ["alpha labs", "Beta Works", "Mid Corp", "Pre Listed", "Zeta Soft"]
    cases: list[tuple[DirectoryQuery, list[str]]] = [
        (DirectoryQuery(industries=("fintech",)), ["Mid Corp", "Zeta Soft"]),
        (DirectoryQuery(industries=("fintech", "health")), ["alpha labs", "Mid Corp", "Zeta Soft"]),
        (DirectoryQuery(industries=("health",), hq_country_codes=("FR",)), ["Mid Corp"]),
        (DirectoryQuery(company_sizes=(CompanySize.S_1_10, CompanySize.S_11_50)), ["alpha labs", "Zeta Soft"]),
        (DirectoryQuery(licensing_models=(LicensingModel.SAAS,)), ["Mid Corp", "Zeta Soft"]),
        (DirectoryQuery(solution_categories=("analytics",)), ["Beta Works", "Zeta Soft"]),
        (DirectoryQuery(target_regions=("europe",)), ["Beta Works", "Zeta Soft"]),
        (DirectoryQuery(looking_for_funding=False, hq_country_codes=("FR",)), ["Mid Corp"]),
        (DirectoryQuery(query="ZETA builds"), ["Zeta Soft"]),
        (DirectoryQuery(query="100%"), ["alpha labs", "Beta Works", "Mid Corp", "Zeta Soft"]),
        (DirectoryQuery(query="100%_"), []),  # LIKE's wildcards are plain characters
        (DirectoryQuery(member_subject="kc-mid"), ["Mid Corp"]),
        (DirectoryQuery(orphaned=True), ["Beta Works"]),
        (DirectoryQuery(orphaned=True, hq_country_codes=("FR",)), []),
        (DirectoryQuery(states=(CompanyState.CLAIM_PENDING, CompanyState.DELETED)), ["Gone", "Pending Claim"]),
    ]
    for query, expected in cases:
        assert _names(uow, query) == expected, query
        with uow() as u:
            assert u.companies.list_after(query, ListWindow(1), None).total == len(expected), query


@pytest.mark.parametrize("order_by", ["display_name", "create_time desc", "update_time desc"])
def test_directory_windows_follow_the_keyset_position(uow: UowFactory, directory: list[Company], order_by: str) -> None:
    query = DirectoryQuery(order_by=order_by)
    everything = _names(uow, query)
    assert len(everything) == 5
    seen: list[str] = []
    window = ListWindow(2)
    while True:
        with uow() as u:
            listed = u.companies.list_after(query, window, "kc-mid")
        found = listed.pages
        assert len(found) <= 3  # size + 1: whether there is more
        assert listed.total == 5  # every match, not only those after the position
        assert {s.page.content.display_name: s.role for s in listed.seen if s.role} == (
            {"Mid Corp": PageRole.OWNER} if "Mid Corp" in [c.content.display_name for c in found] else {}
        )
        seen += [c.content.display_name for c in found[:2]]
        if len(found) <= 2:
            break
        # What a page token carries (through JSON): the position of the window's last page.
        after = tuple(str(v) for v in position(found[1], order_by))
        window = ListWindow(2, after)
    assert seen == everything
    expected = {
        "display_name": ["alpha labs", "Beta Works", "Mid Corp", "Pre Listed", "Zeta Soft"],
        "create_time desc": ["Pre Listed", "Beta Works", "Mid Corp", "alpha labs", "Zeta Soft"],
        "update_time desc": ["Zeta Soft", "alpha labs", "Mid Corp", "Beta Works", "Pre Listed"],
    }
    assert everything == expected[order_by]

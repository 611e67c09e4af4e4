"""The contract of the investor unit of work and its page store, run with the same assertions on the
in-memory fake (what the use-case tests run on), on PostgreSQL and on SQLite: so the fake is honest.

The shared `each_store` fixture gives the three cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from types import TracebackType
from typing import cast

import pytest

from devinsider.investor.v1 import events_pb2
from devinsider_common.clock import as_utc
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.ids import new_id
from devinsider_common.pages.model import Member
from devinsider_common.pages.ports import ClaimsDirectory
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.fixtures import migrated_engine
from devinsider_common.testing.memory import MemoryStore, MemoryUnitOfWork, MemoryUsers
from devinsider_common.testing.pages import check_orphan_mark, check_page_for_viewer, page_updates
from devinsider_common.unit_of_work import DuplicateRecord, UnitOfWorkFactory
from investor_service.bootstrap import MIGRATIONS, build_app
from investor_service.domain.enums import InvestorCategory, InvestorState, InvestorType
from investor_service.domain.model import Contact, Investor, Money, Profile
from investor_service.domain.query import InvestorQuery, Order, position
from investor_service.service_layer.ports import InvestorUnitOfWork
from investor_service.service_layer.unit_of_work import SqlInvestorUnitOfWork

from ..fakes import FakeInvestorUow, FakeUnlocks, new_profile, person, unit_settings

UowFactory = UnitOfWorkFactory[InvestorUnitOfWork]
T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def uow(each_store: tuple[str, str] | None) -> Iterator[UowFactory]:
    if each_store is None:
        store = MemoryStore()
        yield partial(FakeInvestorUow, store)
        return
    with migrated_engine(each_store, MIGRATIONS) as engine:
        yield partial(SqlInvestorUnitOfWork, engine)


def _investor(name: str, created: int = 0, creator: str = "kc-ada", request_id: str = "", **fields: object) -> Investor:
    """A page created `created` minutes after T0, with an id in creation order (UUIDv7-like)."""
    when = T0 + timedelta(minutes=created)
    page_id = f"01900000-0000-7000-8000-{created:012d}"
    return Investor(
        page_id, new_profile(name, **fields), creator, created_at=when, updated_at=when, request_id=request_id
    )


def _add(uow: UowFactory, *investors: Investor) -> None:
    with uow() as u:
        for investor in investors:
            u.investors.add(investor)
        u.commit()


def _utc(investor: Investor | None) -> Investor | None:
    """SQLite gives naive datetimes back (in UTC); compare instants."""
    if investor is None:
        return None
    deleted, orphaned = investor.deleted_at, investor.orphaned_at
    return replace(
        investor,
        created_at=as_utc(investor.created_at) if investor.created_at else None,
        updated_at=as_utc(investor.updated_at) if investor.updated_at else None,
        deleted_at=as_utc(deleted) if deleted else None,
        orphaned_at=as_utc(orphaned) if orphaned else None,
    )


def test_a_page_reads_back_as_written_once_committed(uow: UowFactory) -> None:
    full = Investor(
        new_id(),
        Profile(
            display_name="Northwind Ventures",
            category=2,
            investor_type=5,
            tagline="Seed funds",
            description="We back\nfounders",
            website_url="https://northwind.example",
            logo_url="https://northwind.example/logo.png",
            hq_country_code="FR",
            ticket_min=Money("EUR", 10_000_00),
            ticket_max=None,
            funding_stages=("seed", "series_a"),
            industries=("fintech",),
            solution_categories=("payments",),
            regions=("emea",),
            country_codes=("FR", "DE"),
            portfolio=("Acme", "Globex"),
            contact=Contact("deals@northwind.example", "+33612345678", "Ada", "https://linkedin.com/in/ada"),
        ),
        "kc-ada",
        created_at=T0,
        updated_at=T0,
        request_id="req-1",
        orphaned_at=T0 + timedelta(hours=1),
    )
    with uow() as u:
        u.investors.add(full)
        assert _utc(u.investors.get(full.id)) == full  # the transaction sees its own write
    with uow() as u:  # not committed: gone
        assert u.investors.get(full.id) is None
    _add(uow, full)
    with uow() as u:
        assert _utc(u.investors.get(full.id, lock=True)) == full
        assert _utc(u.investors.find_by_request("kc-ada", "req-1")) == full
        assert u.investors.find_by_request("kc-bob", "req-1") is None
        assert u.investors.find_by_request("kc-ada", "") is None
        assert {k: _utc(v) for k, v in u.investors.get_many([full.id, full.id, "nope"]).items()} == {full.id: full}
        assert u.investors.get_many([]) == {}
        assert u.page_title(full.id) == u.investors.title(full.id) == "Northwind Ventures"
        assert u.investors.titles([full.id, "nope"]) == {full.id: "Northwind Ventures"}
        assert u.investors.titles([]) == {}


def test_one_page_per_creator_and_request_id(uow: UowFactory) -> None:
    _add(uow, _investor("First", 1, request_id="req-1"), _investor("No key", 2), _investor("No key", 3))
    with pytest.raises(DuplicateRecord), uow() as u:
        u.investors.add(_investor("Twin", 4, request_id="req-1"))
    with pytest.raises(DuplicateRecord), uow() as u:
        u.investors.add(_investor("Same id", 1))
    _add(uow, _investor("Other caller", 5, creator="kc-bob", request_id="req-1"))
    with uow() as u:
        assert len(u.investors.get_many([_investor("", n).id for n in range(6)])) == 4


def test_save_replaces_the_page_and_its_filter_tags(uow: UowFactory) -> None:
    page = _investor("Alpha", 1, funding_stages=("seed",), industries=("fintech",))
    _add(uow, page)
    changed = replace(
        page,
        profile=replace(page.profile, display_name="Beta", funding_stages=("growth",), industries=()),
        updated_at=T0 + timedelta(hours=1),
    )
    with uow() as u:
        u.investors.save(changed)
        u.commit()
    with uow() as u:
        assert _utc(u.investors.get(page.id)) == changed
        assert u.investors.list_after(InvestorQuery(funding_stages=("seed",)), ListWindow(10), None).pages == []
        assert [
            i.id for i in u.investors.list_after(InvestorQuery(funding_stages=("growth",)), ListWindow(10), None).pages
        ] == [page.id]
        u.investors.save(replace(changed, id="unknown"))  # nothing to update: nothing happens
        deleted = changed.deleted(T0 + timedelta(hours=2))
        u.investors.save(deleted)
        u.commit()
    with uow() as u:
        assert u.investors.title(page.id) is None and u.page_title(page.id) is None  # deleted: no live title
        assert u.investors.titles([page.id]) == {page.id: "Beta"}
        assert u.investors.list_after(InvestorQuery(), ListWindow(10), None).pages == []
        gone = InvestorQuery(states=(InvestorState.DELETED,))
        assert [_utc(i) for i in u.investors.list_after(gone, ListWindow(10), None).pages] == [deleted]


def _updated_events(u: InvestorUnitOfWork) -> list[tuple[list[str], bool]]:
    assert isinstance(u, SqlUnitOfWork | MemoryUnitOfWork)
    return page_updates(u, events_pb2.InvestorUpdated, "investor")


def test_a_page_is_read_for_its_viewer_with_role_and_unlockers_in_one_go(uow: UowFactory) -> None:
    page, other = _investor("Viewed", 1), _investor("Other", 2)
    _add(uow, page, replace(other, state=InvestorState.DELETED))
    check_page_for_viewer(uow, lambda u: u.investors, page.id, other.id, unlocks=True)


def test_the_orphan_mark_is_written_once_with_its_event_and_cleared(uow: UowFactory) -> None:
    page, gone = _investor("Alone", 1), _investor("Gone", 2)
    _add(uow, page, replace(gone, state=InvestorState.DELETED))
    later = T0 + timedelta(days=1)

    def marked() -> None:
        with uow() as u:
            stored = _utc(u.investors.get(page.id))
            assert stored is not None and (stored.orphaned_at, stored.updated_at) == (later, later)
            assert _updated_events(u) == [(["orphan_time"], True)]  # the mark travels with the page
            assert [i.id for i in u.investors.list_after(InvestorQuery(orphaned=True), ListWindow(10), None).pages] == [
                page.id
            ]

    check_orphan_mark(uow, page.id, gone.id, later, marked)
    with uow() as u:
        assert _updated_events(u) == [(["orphan_time"], True), (["orphan_time"], False)]
        assert u.investors.list_after(InvestorQuery(orphaned=True), ListWindow(1), None).total == 0


@pytest.fixture
def directory(uow: UowFactory) -> dict[str, Investor]:
    """Five pages with distinct profiles, by display name; kc-alpha is a member of two of them."""
    pages = [
        _investor(
            "Alpha Angels",
            1,
            category=2,
            investor_type=2,
            funding_stages=("pre_seed", "seed"),
            industries=("fintech",),
            country_codes=("FR",),
            ticket_min=Money("EUR", 10_000_00),
            ticket_max=Money("EUR", 100_000_00),
            description="We back first-time founders in payments.",
        ),
        _investor(
            "beta Capital",
            2,
            funding_stages=("series_a",),
            industries=("healthtech", "fintech"),
            country_codes=("DE", "FR"),
            ticket_min=Money("EUR", 1_000_000_00),
            ticket_max=Money("EUR", 5_000_000_00),
        ),
        _investor(
            "Gamma Growth",
            3,
            investor_type=4,
            funding_stages=("growth",),
            country_codes=("US",),
            ticket_min=Money("USD", 10_000_000_00),
            tagline="Late-stage software buyouts",
        ),
        replace(_investor("Delta Family", 4, investor_type=5, industries=("proptech",)), orphaned_at=T0),
        _investor("epsilon Ventures", 5, funding_stages=("seed",)),
    ]
    _add(uow, *pages)
    with uow() as u:
        for page in (pages[0], pages[3]):
            u.members.add(Member(page.id, "kc-alpha", PageRole.OWNER, created_at=T0, updated_at=T0))
        u.commit()
    return {p.profile.display_name: p for p in pages}


def _names(uow: UowFactory, **filters: object) -> list[str]:
    with uow() as u:
        found = u.investors.list_after(InvestorQuery(**filters), ListWindow(100), None).pages  # type: ignore[arg-type]
    return [i.profile.display_name for i in found]


def test_filters_combine_with_and_and_their_values_with_or(uow: UowFactory, directory: dict[str, Investor]) -> None:
    everyone = ["Alpha Angels", "beta Capital", "Delta Family", "epsilon Ventures", "Gamma Growth"]
    assert _names(uow) == everyone  # display-name order, whatever the case
    assert _names(uow, text="payments") == ["Alpha Angels"]  # description
    assert _names(uow, text="buyouts") == ["Gamma Growth"]  # tagline
    assert _names(uow, text="capital") == ["beta Capital"]
    assert _names(uow, text="100%_") == []  # LIKE wildcards are literal
    assert _names(uow, categories=(InvestorCategory.INDIVIDUAL,)) == ["Alpha Angels"]
    types = (InvestorType.PRIVATE_EQUITY, InvestorType.FAMILY_OFFICE)
    assert _names(uow, investor_types=types) == ["Delta Family", "Gamma Growth"]
    assert _names(uow, funding_stages=("seed",)) == ["Alpha Angels", "epsilon Ventures"]
    assert _names(uow, funding_stages=("seed", "growth")) == ["Alpha Angels", "epsilon Ventures", "Gamma Growth"]
    assert _names(uow, industries=("fintech",)) == ["Alpha Angels", "beta Capital"]
    assert _names(uow, industries=("fintech",), country_codes=("DE",)) == ["beta Capital"]
    assert _names(uow, industries=("fintech",), funding_stages=("seed",), country_codes=("FR",)) == ["Alpha Angels"]
    assert _names(uow, ticket_amount_minor=50_000_00, currency_code="EUR") == ["Alpha Angels"]
    assert _names(uow, ticket_amount_minor=2_000_000_00, currency_code="EUR") == ["beta Capital"]
    assert _names(uow, ticket_amount_minor=99_000_000_00, currency_code="USD") == ["Gamma Growth"]  # no max
    assert _names(uow, ticket_amount_minor=1, currency_code="USD") == []
    assert _names(uow, member_subject="kc-alpha") == ["Alpha Angels", "Delta Family"]
    assert _names(uow, member_subject="kc-nobody") == []
    assert _names(uow, orphaned=True) == ["Delta Family"]
    assert _names(uow, orphaned=True, funding_stages=("seed",)) == []
    with uow() as u:
        assert u.investors.list_after(InvestorQuery(), ListWindow(1), None).total == 5
        assert (
            u.investors.list_after(InvestorQuery(funding_stages=("seed", "series_a")), ListWindow(1), None).total == 3
        )
        assert u.investors.list_after(InvestorQuery(states=(InvestorState.DELETED,)), ListWindow(1), None).total == 0


@pytest.mark.parametrize("order", list(Order))
def test_keyset_windows_cover_every_page_once_in_a_stable_order(
    uow: UowFactory, directory: dict[str, Investor], order: Order
) -> None:
    twins = [_investor("Twin Fund", 10 + n) for n in range(7)]  # same name: the id breaks the tie
    _add(uow, *twins)
    with uow() as u:  # two pages updated at the same time: the id breaks the tie
        for page in (twins[2], directory["beta Capital"]):
            u.investors.save(replace(page, updated_at=T0 + timedelta(days=1)))
        u.commit()
    with uow() as u:
        everything = u.investors.list_after(InvestorQuery(order=order), ListWindow(100), None).pages
        seen: list[Investor] = []
        after = None
        member_of_alpha = {directory["Alpha Angels"].id, directory["Delta Family"].id}
        while True:
            listed = u.investors.list_after(InvestorQuery(order=order), ListWindow(3, after), "kc-alpha")
            window = listed.pages
            assert len(window) <= 4  # size + 1: the repository tells whether there is more
            assert listed.total == len(everything)  # every match, not only those after the position
            assert {s.page.id for s in listed.seen if s.role} == {i.id for i in window} & member_of_alpha
            seen += window[:3]
            if len(window) <= 3:
                break
            after = position(window[2], order)
    ids = [i.id for i in seen]
    assert ids == [i.id for i in everything] and len(set(ids)) == 12
    if order is Order.DISPLAY_NAME:
        names = [i.profile.display_name for i in everything]
        assert names[:5] == ["Alpha Angels", "beta Capital", "Delta Family", "epsilon Ventures", "Gamma Growth"]
        assert [i.id for i in everything[5:]] == sorted(t.id for t in twins)
    elif order is Order.CREATE_TIME_DESC:
        assert ids == sorted(ids, reverse=True)
    else:
        assert ids[:2] == sorted([twins[2].id, directory["beta Capital"].id], reverse=True)
        rest = [(as_utc(i.updated_at or T0), i.id) for i in everything[2:]]
        assert rest == sorted(rest, reverse=True)


class _LateLookups:
    """A unit of work whose lookup by request id misses the first `misses` times, as one that does
    not yet see the twin a concurrent retry is committing: the unique key meets it at the insert."""

    def __init__(self, factory: UowFactory, misses: int) -> None:
        self._factory = factory
        self.misses = misses

    def __call__(self, read_only: bool = False) -> InvestorUnitOfWork:
        return cast(InvestorUnitOfWork, _Late(self._factory(read_only), self))


class _Late:
    def __init__(self, inner: InvestorUnitOfWork, lookups: _LateLookups) -> None:
        self._inner = inner
        self._lookups = lookups

    def __enter__(self) -> InvestorUnitOfWork:
        opened = self._inner.__enter__()
        if self._lookups.misses > 0:
            self._lookups.misses -= 1
            opened.investors.find_by_request = lambda creator, request_id: None  # type: ignore[method-assign]
        return opened

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)


def test_a_create_that_meets_its_twin_at_the_unique_key_returns_the_twin(uow: UowFactory) -> None:
    """create_once on each store: the insert raises DuplicateRecord (the SQL unit of work turns the
    database's IntegrityError into it) and the use case returns the stored twin."""
    lookups = _LateLookups(uow, misses=0)
    app = build_app(unit_settings(), lookups, FakeClock(T0), ClaimsDirectory(), FakeUnlocks(), MemoryUsers())
    twin = app.investors.create(person("kc-ada"), new_profile("Race Fund"), "req-1")
    lookups.misses = 1
    again = app.investors.create(person("kc-ada"), new_profile("Race Fund"), "req-1")
    assert (again.investor.id, again.role, again.full) == (twin.investor.id, PageRole.OWNER, True)
    with uow() as u:
        assert len(u.investors.list_after(InvestorQuery(), ListWindow(10), None).pages) == 1
        assert len(u.members.list_after(twin.investor.id, ListWindow(10))) == 1

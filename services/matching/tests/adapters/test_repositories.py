"""The contract of the matching unit of work and its repositories, with the same assertions on the
in-memory fake (`tests/fakes.py`), PostgreSQL and SQLite: what the use-case tests rely on is what the
database does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from devinsider_common.ids import new_id
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.names import PageKind
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.fixtures import migrated_engine
from devinsider_common.unit_of_work import DuplicateRecord
from matching_service.bootstrap import MIGRATIONS
from matching_service.domain.facts import PageFacts
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import Criteria, CriteriaProfile, FundingNeed, Money, TicketRange
from matching_service.domain.social import Block, Favorite
from matching_service.domain.taxonomy import Dimension
from matching_service.service_layer.ports import MatchingUnitOfWork
from matching_service.service_layer.unit_of_work import SqlMatchingUnitOfWork

from ..fakes import FakeMatchingUnitOfWork, MatchingStore, seed_taxonomy
from ..unit.helpers import page

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
EVENT_TYPES = {
    "profile_updated": "devinsider.matching.v1.CriteriaProfileUpdated",
    "block_created": "devinsider.matching.v1.BlockCreated",
    "block_deleted": "devinsider.matching.v1.BlockDeleted",
    "match_found": "devinsider.matching.v1.MatchFound",
}
ACME, OTHER, P, VC = page("companies/acme"), page("companies/other"), page("programs/p"), page("investors/i")


@dataclass
class Backend:
    uow: Callable[[], MatchingUnitOfWork]
    published: Callable[[], list[str]]  # the event types committed, in order


@pytest.fixture
def backend(each_store: tuple[str, str] | None) -> Iterator[Backend]:
    if each_store is None:
        store = MatchingStore()
        yield Backend(lambda: FakeMatchingUnitOfWork(store), lambda: [EVENT_TYPES[k] for k, _ in store.events()])
        return
    with migrated_engine(each_store, MIGRATIONS) as engine:

        def published() -> list[str]:
            with engine.connect() as connection:
                query = select(outbox_messages.c.event_type).order_by(outbox_messages.c.id)
                return [str(t) for t in connection.execute(query).scalars()]

        yield Backend(lambda: SqlMatchingUnitOfWork(engine), published)


def test_a_status_never_gives_way_to_one_that_holds_as_of_an_earlier_time(backend: Backend) -> None:
    earlier, later = NOW - timedelta(seconds=5), NOW + timedelta(seconds=5)
    live, draft = PageStatus(P, active=True, display_name="P"), PageStatus(P, active=False, display_name="P")
    with backend.uow() as uow:
        assert uow.statuses.save(live, NOW, NOW)
        uow.commit()
    with backend.uow() as uow:
        assert not uow.statuses.save(draft, earlier, later)  # older: nothing changes
        assert not uow.statuses.save(live, later, later)  # the same status, as of a later time
        uow.commit()
    with backend.uow() as uow:
        assert uow.statuses.get_many(["programs/p"]) == {"programs/p": live}
        assert not uow.statuses.save(draft, NOW, later)  # older than the time the equal status moved on to
        assert uow.statuses.save(draft, later, later)  # as of the same time: applied
        uow.commit()
    with backend.uow() as uow:
        assert uow.statuses.get_many(["programs/p"]) == {"programs/p": draft}


def test_a_status_stores_the_facts_its_page_holds(backend: Backend) -> None:
    """Facts are part of the status: stored with it, compared with it (an edited page is a change), and
    null until a page's service first gives them (statuses stored before migration 0004)."""
    later = NOW + timedelta(seconds=5)
    facts = PageFacts(
        {Dimension.INDUSTRY: ("fintech", "retail"), Dimension.COUNTRY: ("FR", "europe")},
        FundingNeed(True, Money("EUR", 5)),
        Money("EUR", 1),
        None,
    )
    unknown = PageStatus(ACME, active=True, display_name="Acme")
    with backend.uow() as uow:
        assert uow.statuses.save(unknown, NOW, NOW)
        uow.commit()
    with backend.uow() as uow:
        assert uow.statuses.get_many(["companies/acme"]) == {"companies/acme": unknown}  # facts not known
        assert uow.statuses.save(replace(unknown, facts=facts), NOW, NOW)  # the first facts: a change
        uow.commit()
    with backend.uow() as uow:
        assert uow.statuses.get_many(["companies/acme"])["companies/acme"].facts == facts
        assert [s.facts for s in uow.statuses.all()] == [facts]
        assert not uow.statuses.save(replace(unknown, facts=facts), later, later)  # the same facts
        edited = PageFacts({Dimension.INDUSTRY: ("retail",)})
        assert uow.statuses.save(replace(unknown, facts=edited), later, later)  # the page edited
        uow.commit()
    with backend.uow() as uow:
        assert uow.statuses.get_many(["companies/acme"])["companies/acme"].facts == edited


def test_the_inbox_records_a_message_once_per_consumer_with_the_transaction(backend: Backend) -> None:
    with backend.uow() as uow:
        assert uow.inbox.first_time("matching.pages", "m1")
        # not committed: not seen
    with backend.uow() as uow:
        assert uow.inbox.first_time("matching.pages", "m1")
        assert not uow.inbox.first_time("matching.pages", "m1")
        assert uow.inbox.first_time("matching.other", "m1")
        uow.commit()
    with backend.uow() as uow:
        assert not uow.inbox.first_time("matching.pages", "m1")


def ordered_id(n: int) -> str:
    return f"01a00000-0000-7000-8000-{n:012d}"


def aware(profile: CriteriaProfile | None) -> CriteriaProfile | None:
    """The profile with its update time in UTC (SQLite gives the stored UTC time back without its zone)."""
    moment = profile.updated_at if profile is not None else None
    if profile is None or moment is None or moment.tzinfo:
        return profile
    return replace(profile, updated_at=moment.replace(tzinfo=UTC))


def test_taxonomy_profiles_statuses_and_the_change_log(backend: Backend) -> None:
    company = CriteriaProfile(
        ACME, {Dimension.INDUSTRY: Criteria(("fintech", "retail"))}, FundingNeed(True, Money("EUR", 5)), None, 1, NOW
    )
    investor = CriteriaProfile(
        VC,
        {Dimension.FUNDING_STAGE: Criteria((), True), Dimension.BUSINESS_MODEL: Criteria(("saas",))},
        None,
        TicketRange(None, None, True),  # the page's range, required
        1,
        NOW,
    )
    legacy = CriteriaProfile(P, {}, None, TicketRange(Money("EUR", 1), Money("EUR", 9), False), 1, NOW)
    with backend.uow() as uow:
        assert uow.taxonomy.latest_version() == 1 and uow.taxonomy.get(9) is None
        taxonomy = uow.taxonomy.get(1)
        assert taxonomy is not None and taxonomy.criteria == seed_taxonomy().criteria
        uow.profiles.save(company, exists=False)
        uow.profiles.save(investor, exists=False)
        uow.profiles.save(legacy, exists=False)
        assert uow.statuses.save(PageStatus(ACME, active=True, display_name="Acme"), NOW, NOW)
        uow.changes.record(["companies/acme", "investors/i", "companies/acme"], NOW)
        uow.changes.record([], NOW)
        uow.commit()
    with backend.uow() as uow:
        assert aware(uow.profiles.get("companies/acme")) == company
        assert aware(uow.profiles.get_many(["investors/i"])["investors/i"]) == investor
        assert aware(uow.profiles.get("programs/p")) == legacy
        assert set(uow.profiles.get_many(["investors/i", "programs/none"])) == {"investors/i"}
        assert {p.page.name for p in uow.profiles.all()} == {"companies/acme", "investors/i", "programs/p"}
    # A unique key met raises DuplicateRecord when the statement's unit of work ends.
    with pytest.raises(DuplicateRecord), backend.uow() as uow:
        uow.profiles.save(company, exists=False)
    with backend.uow() as uow:
        uow.profiles.save(CriteriaProfile(ACME, {}, None, None, 1, NOW), exists=True)
        assert not uow.statuses.save(PageStatus(ACME, active=True, display_name="Acme"), NOW, NOW)  # unchanged
        assert uow.statuses.save(PageStatus(ACME, active=False, display_name="Acme"), NOW, NOW)
        uow.commit()
    with backend.uow() as uow:
        assert uow.profiles.get("companies/acme").criteria == {}  # type: ignore[union-attr]
        assert uow.statuses.get_many(["companies/acme", "programs/p"]) == {
            "companies/acme": PageStatus(ACME, display_name="Acme")
        }
        assert [s.page for s in uow.statuses.all()] == [ACME]
        assert uow.changes.since(0) == [(1, "companies/acme"), (2, "investors/i")] and uow.changes.last_seq() == 2
        assert uow.changes.since(1) == [(2, "investors/i")] and uow.changes.since(0, limit=1) == [(1, "companies/acme")]
        uow.changes.record(["programs/p"], NOW)  # not committed: gone with the unit of work
    with backend.uow() as uow:
        assert uow.changes.last_seq() == 2


def test_favorites_and_blocks_are_unique_per_pair_and_listed_newest_first(backend: Backend) -> None:
    # Ids sort by creation time (UUIDv7 to the millisecond): these are in order.
    older = Favorite(ordered_id(1), ACME, P, "alice", NOW)
    newer = Favorite(ordered_id(2), ACME, VC, "alice", NOW)
    block = Block(ordered_id(3), P, ACME, "spam", "pat", NOW)
    later = Block(ordered_id(4), P, OTHER, "", "pat", NOW)
    with backend.uow() as uow:
        for favorite in (older, newer):
            uow.favorites.add(favorite)
        for each in (block, later):
            uow.blocks.add(each)
        uow.commit()
    with pytest.raises(DuplicateRecord), backend.uow() as uow:
        uow.favorites.add(Favorite(new_id(), ACME, P, "bob", NOW))
    with pytest.raises(DuplicateRecord), backend.uow() as uow:
        uow.blocks.add(Block(new_id(), P, ACME, "", "bob", NOW))
    with backend.uow() as uow:
        assert uow.favorites.find("companies/acme", "programs/p").id == older.id  # type: ignore[union-attr]
        assert uow.favorites.get("companies/acme", newer.id).page == VC  # type: ignore[union-attr]
        assert (
            uow.favorites.get("companies/other", newer.id) is None
            and uow.favorites.find("companies/other", "programs/p") is None
        )
        assert uow.favorites.pages_of("companies/acme") == {"programs/p", "investors/i"}
        assert [f.id for f in uow.favorites.list_after("companies/acme", ListWindow(1), None)] == [newer.id, older.id]
        assert [f.id for f in uow.favorites.list_after("companies/acme", ListWindow(5, (newer.id,)), None)] == [
            older.id
        ]
        assert [f.id for f in uow.favorites.list_after("companies/acme", ListWindow(5), PageKind.INVESTOR)] == [
            newer.id
        ]
        assert uow.blocks.find("programs/p", "companies/acme").reason == "spam"  # type: ignore[union-attr]
        assert uow.blocks.get("programs/p", later.id).page == OTHER  # type: ignore[union-attr]
        assert uow.blocks.get("companies/acme", later.id) is None
        assert uow.blocks.either_way("companies/acme", "programs/p")
        assert uow.blocks.either_way("programs/p", "companies/acme")
        assert not uow.blocks.either_way("companies/acme", "companies/other")
        assert uow.blocks.counterparts("programs/p") == {"companies/acme", "companies/other"}
        assert uow.blocks.counterparts("companies/acme") == {"programs/p"}
        # What a match list reads, in one statement: the same two sets.
        assert uow.hidden_and_favorites("companies/acme") == ({"programs/p"}, {"programs/p", "investors/i"})
        assert uow.hidden_and_favorites("programs/p") == ({"companies/acme", "companies/other"}, set())
        assert [b.id for b in uow.blocks.list_after("programs/p", ListWindow(5))] == [later.id, block.id]
        assert [b.id for b in uow.blocks.list_after("programs/p", ListWindow(5, (later.id,)))] == [block.id]
        uow.favorites.remove(older.id)
        uow.blocks.remove(block.id)
        uow.commit()
    with backend.uow() as uow:
        assert (
            uow.favorites.pages_of("companies/acme") == {"investors/i"}
            and uow.blocks.counterparts("companies/acme") == set()
        )


def test_a_deleted_creator_is_erased_from_the_favorites_and_blocks_it_created(backend: Backend) -> None:
    mine = Favorite(ordered_id(1), ACME, P, "gone", NOW)
    theirs = Favorite(ordered_id(2), ACME, VC, "alice", NOW)
    block = Block(ordered_id(3), P, ACME, "spam", "gone", NOW)
    with backend.uow() as uow:
        for favorite in (mine, theirs):
            uow.favorites.add(favorite)
        uow.blocks.add(block)
        uow.commit()
    with backend.uow() as uow:
        assert (uow.favorites.forget_creator("gone"), uow.blocks.forget_creator("gone")) == (1, 1)
        uow.commit()
    with backend.uow() as uow:
        assert uow.favorites.get("companies/acme", mine.id).creator == ""  # type: ignore[union-attr]
        assert uow.favorites.get("companies/acme", theirs.id).creator == "alice"  # type: ignore[union-attr]
        assert uow.blocks.get("programs/p", block.id).creator == ""  # type: ignore[union-attr]
        assert uow.blocks.either_way("programs/p", "companies/acme")  # the page keeps its block
        assert uow.favorites.forget_creator("gone") == 0


def test_announcement_debts_notified_pairs_and_events(backend: Backend) -> None:
    with backend.uow() as uow:
        for name in ("companies/acme", "programs/p", "companies/acme"):
            uow.announcements.request(name, NOW)
        assert uow.notified.claim("companies/acme", "programs/p", 80.0, NOW)
        uow.events.profile_updated(CriteriaProfile(ACME, updated_at=NOW), ["criteria"])
        uow.events.block_created(Block(new_id(), P, ACME, "", "pat", NOW))
        uow.events.match_found(ACME, P, 80.0, PageStatus(ACME, True), None)
        uow.commit()
    with backend.uow() as uow:
        assert not uow.notified.claim("companies/acme", "programs/p", 90.0, NOW)  # once per pair
        assert uow.notified.claim("companies/acme", "investors/i", 90.0, NOW)
        claimed = uow.announcements.claim(2)
        assert [p for _, p in claimed] == ["companies/acme", "programs/p"]
        mine = uow.announcements.claim(10, "companies/acme")
        assert [p for _, p in mine] == ["companies/acme", "companies/acme"]
        uow.announcements.done([claimed[0][0]])
        uow.announcements.done([])
        uow.commit()
    assert backend.published() == [EVENT_TYPES[k] for k in ("profile_updated", "block_created", "match_found")]
    with backend.uow() as uow:
        assert uow.announcements.pages() == ["programs/p", "companies/acme"]


def test_a_duplicate_met_in_a_unit_of_work_leaves_none_of_its_writes(backend: Backend) -> None:
    """A profile change, its event and its announcement debt commit together or not at all."""
    with backend.uow() as uow:
        uow.profiles.save(CriteriaProfile(P, {}, None, None, 1, NOW), exists=False)
        uow.commit()
    published = backend.published()
    change = CriteriaProfile(P, {Dimension.INDUSTRY: Criteria(("fintech",))}, None, None, 1, NOW)
    with pytest.raises(DuplicateRecord), backend.uow() as uow:
        uow.profiles.save(change, exists=True)
        uow.changes.record(["programs/p"], NOW)
        uow.events.profile_updated(change, ["criteria"])
        uow.announcements.request("programs/p", NOW)
        uow.profiles.save(change, exists=False)  # a twin: the unit of work must not commit
        uow.commit()
    with backend.uow() as uow:
        assert uow.profiles.get("programs/p").criteria == {}  # type: ignore[union-attr]
        assert uow.announcements.pages() == [] and uow.changes.last_seq() == 0
    assert backend.published() == published

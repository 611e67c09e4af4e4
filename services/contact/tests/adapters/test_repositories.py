"""The contract of the contact service's unit of work and stores, with the same assertions on the in-memory
fake (`tests/fakes.py`, what the use-case tests run on) and on the SQL unit of work on PostgreSQL and SQLite:
orderings, keyset windows, unique keys (one open request per ordered pair, one conversation per pair),
read marks that only move forward, the CRM counters, commit and rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from contact_service.bootstrap import MIGRATIONS
from contact_service.domain.conversations import Conversation, Message, Participant, ReadMark
from contact_service.domain.requests import ContactPerson, ContactRequest, Direction, RequestState
from contact_service.domain.unlocks import unlock_position
from contact_service.service_layer.ports import ContactUnitOfWork
from contact_service.service_layer.unit_of_work import SqlContactUnitOfWork
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.fixtures import migrated_engine
from devinsider_common.testing.memory import MemoryStore
from devinsider_common.unit_of_work import DuplicateRecord

from ..fakes import FakeContactUnitOfWork

UowFactory = Callable[..., ContactUnitOfWork]
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
FUND = PageName(PageKind.INVESTOR, "fund")
ISV = PageName(PageKind.COMPANY, "isv")
OTHER = PageName(PageKind.COMPANY, "other")
VICTOR = ContactPerson("users/victor", "Victor V", "victor@example.com")
ALICE = ContactPerson("users/alice", "Alice A", "alice@example.com")


def ident(n: int) -> str:
    """Ids in the order of `n` (as UUIDv7 ids are in the order they are made)."""
    return f"00000000-0000-7000-8000-{n:012d}"


def request(n: int, sender: PageName = FUND, target: PageName = ISV, key: str | None = None) -> ContactRequest:
    at = NOW + timedelta(minutes=n)
    return ContactRequest(
        ident(n), sender, target, f"message {n}", VICTOR, "Fund", "Isv", "users/victor", at, request_id=key
    )


def conversation(n: int, first: PageName = FUND, second: PageName = ISV) -> Conversation:
    return Conversation(
        ident(n), Participant(first, "First", VICTOR), Participant(second, "Second", ALICE), f"r{n}", NOW
    )


def message(n: int, conversation_id: str, sequence: int, key: str | None = None) -> Message:
    return Message(ident(n), conversation_id, sequence, "users/victor", "victor", "Victor", FUND, f"text {n}", NOW, key)


class Contract:
    """The assertions; the subclasses give the `uow` factory."""

    def test_requests_round_trip_and_list_newest_first_per_direction(self, uow: UowFactory) -> None:
        first, second, third = request(1, key="k1"), request(2, target=OTHER), request(3, sender=OTHER, target=ISV)
        with uow() as u:
            for item in (first, second, third):
                u.requests.add(item)
            u.commit()
        with uow(read_only=True) as u:
            assert u.requests.get(FUND, first.id) == first
            assert u.requests.get(OTHER, first.id) is None  # another sender's name
            assert u.requests.by_request(FUND, "k1") == first
            assert u.requests.open_between(FUND, ISV) == first
            assert u.requests.open_between(ISV, FUND) is None
            outgoing = u.requests.list_after(FUND, Direction.OUTGOING, ListWindow(size=1), None)
            assert outgoing == [second, first]
            after = ListWindow(size=5, after=(second.id,))
            assert u.requests.list_after(FUND, Direction.OUTGOING, after, None) == [first]
            assert u.requests.list_after(ISV, Direction.INCOMING, ListWindow(size=5), None) == [third, first]
            pending = RequestState.PENDING
            assert u.requests.list_after(ISV, Direction.INCOMING, ListWindow(size=5), pending) == [third, first]
            assert u.requests.sent_since(FUND, NOW, 5) == [second.created_at, first.created_at]
            assert u.requests.sent_since(FUND, NOW + timedelta(minutes=1), 5) == [second.created_at]
            assert u.requests.counters(ISV) == (0, 0, 2, 0)

    def test_one_open_request_per_ordered_pair_and_one_request_id(self, uow: UowFactory) -> None:
        first = request(1, key="k1")
        with uow() as u:
            u.requests.add(first)
            u.commit()
        with pytest.raises(DuplicateRecord), uow() as u:
            u.requests.add(request(2))
            u.commit()
        with pytest.raises(DuplicateRecord), uow() as u:
            u.requests.add(request(3, target=OTHER, key="k1"))
            u.commit()
        declined_at = NOW + timedelta(hours=1)
        with uow() as u:
            u.requests.save(first.declined("no", "users/alice", declined_at))
            u.requests.add(request(4))  # the pair is free again
            u.commit()
        with uow(read_only=True) as u:
            stored = u.requests.get(FUND, first.id)
            assert stored is not None and (stored.state, stored.decline_reason) == (RequestState.DECLINED, "no")
            assert stored.decided_at == declined_at
            assert u.requests.last_declined_at(FUND, ISV) == declined_at
            assert u.requests.last_declined_at(FUND, OTHER) is None
            assert u.requests.open_between(FUND, ISV) == request(4)

    def test_an_acceptance_is_stored_and_counted(self, uow: UowFactory) -> None:
        first = request(1)
        with uow() as u:
            u.requests.add(first)
            u.requests.add(request(2, target=OTHER))
            u.commit()
        accepted = first.accepted(ALICE, "c1", "users/alice", NOW)
        with uow() as u:
            assert u.requests.get(FUND, first.id, lock=True) == first
            u.requests.save(accepted)
            u.commit()
        with uow(read_only=True) as u:
            assert u.requests.get(FUND, first.id) == accepted
            assert u.requests.counters(FUND) == (2, 1, 0, 0)
            assert u.requests.counters(ISV) == (0, 0, 1, 1)

    def test_one_conversation_per_pair_in_either_order(self, uow: UowFactory) -> None:
        first = conversation(1)
        with uow() as u:
            u.conversations.add(first)
            u.conversations.add(conversation(2, ISV, OTHER))
            u.commit()
        with pytest.raises(DuplicateRecord), uow() as u:
            u.conversations.add(conversation(3, ISV, FUND))
            u.commit()
        posted = first.with_contacts({ISV: VICTOR}).posted(NOW + timedelta(minutes=3))
        with uow() as u:
            assert u.conversations.between(ISV, FUND, lock=True) == first
            u.conversations.save(posted)
            u.commit()
        with uow(read_only=True) as u:
            assert u.conversations.get(first.id) == posted
            assert u.conversations.between(FUND, OTHER) is None
            assert [c.id for c in u.conversations.list_after(ISV, ListWindow(size=5))] == [ident(2), ident(1)]
            assert [c.id for c in u.conversations.list_after(ISV, ListWindow(size=5, after=(ident(2),)))] == [ident(1)]
            assert [c.id for c in u.conversations.list_after(FUND, ListWindow(size=5))] == [ident(1)]

    def test_messages_are_numbered_once_and_listed_newest_first(self, uow: UowFactory) -> None:
        with uow() as u:
            u.conversations.add(conversation(1))
            for n in range(1, 4):
                u.messages.add(message(10 + n, ident(1), n, key=f"k{n}"))
            u.commit()
        with pytest.raises(DuplicateRecord), uow() as u:
            u.messages.add(message(20, ident(1), 2))
            u.commit()
        with pytest.raises(DuplicateRecord), uow() as u:
            u.messages.add(message(21, ident(1), 4, key="k1"))
            u.commit()
        with uow(read_only=True) as u:
            assert u.messages.get(ident(1), ident(12)) == message(12, ident(1), 2, key="k2")
            assert u.messages.get(ident(2), ident(12)) is None
            assert u.messages.by_request(ident(1), "victor", "k3") == message(13, ident(1), 3, key="k3")
            assert u.messages.by_request(ident(1), "alice", "k3") is None
            window = u.messages.list_after(ident(1), ListWindow(size=2))
            assert [m.sequence for m in window] == [3, 2, 1]
            assert [m.sequence for m in u.messages.list_after(ident(1), ListWindow(size=2, after=(2,)))] == [1]

    def test_read_marks_only_move_forward(self, uow: UowFactory) -> None:
        with uow() as u:
            assert u.read_marks.advance(ReadMark("c1", "alice", 2, "m2", NOW)).sequence == 2
            assert u.read_marks.advance(ReadMark("c1", "alice", 1, "m1", NOW)).message_id == "m2"
            assert u.read_marks.advance(ReadMark("c1", "alice", 3, "m3", NOW)).message_id == "m3"
            u.read_marks.advance(ReadMark("c2", "alice", 1, "x1", NOW))
            u.commit()
        with uow(read_only=True) as u:
            assert u.read_marks.get("c1", "alice") == ReadMark("c1", "alice", 3, "m3", NOW)
            assert u.read_marks.get("c1", "bob") is None
            assert set(u.read_marks.of(["c1", "c2", "c3"], "alice")) == {"c1", "c2"}
            assert u.read_marks.of([], "alice") == {}

    def test_the_unlock_projection_records_once_and_lists_newest_first(self, uow: UowFactory) -> None:
        with uow() as u:
            assert u.unlocks.record("investors/fund/unlocks/u1", ISV.name, FUND.name, NOW) is True
            assert u.unlocks.record("investors/fund/unlocks/u1", ISV.name, FUND.name, NOW) is False
            u.unlocks.record("companies/other/unlocks/u2", ISV.name, OTHER.name, NOW + timedelta(minutes=1))
            u.unlocks.record("companies/other/unlocks/u3", FUND.name, OTHER.name, NOW)
            u.commit()
        with uow(read_only=True) as u:
            assert u.unlocks.has_unlocked(FUND, ISV) and not u.unlocks.has_unlocked(ISV, FUND)
            found = u.unlocks.list_after(ISV, ListWindow(size=1))
            assert [(x.unlock, x.unlocker, x.target) for x in found] == [
                ("companies/other/unlocks/u2", OTHER, ISV),
                ("investors/fund/unlocks/u1", FUND, ISV),
            ]
            after = ListWindow(size=5, after=unlock_position(found[0]))
            assert [x.unlock for x in u.unlocks.list_after(ISV, after)] == ["investors/fund/unlocks/u1"]

    def test_nothing_is_kept_without_a_commit(self, uow: UowFactory) -> None:
        with uow() as u:
            u.requests.add(request(1))
            assert u.inbox.first_time("contact.unlocks", "m1") is True
        with uow() as u:
            assert u.requests.get(FUND, ident(1)) is None
            assert u.inbox.first_time("contact.unlocks", "m1") is True
            u.commit()
        with uow() as u:
            assert u.inbox.first_time("contact.unlocks", "m1") is False


class TestInMemory(Contract):
    @pytest.fixture
    def uow(self) -> UowFactory:
        return partial(FakeContactUnitOfWork, MemoryStore())


class TestSql(Contract):
    @pytest.fixture
    def uow(self, each_database: tuple[str, str]) -> Iterator[UowFactory]:
        with migrated_engine(each_database, MIGRATIONS) as engine:
            yield partial(SqlContactUnitOfWork, engine)

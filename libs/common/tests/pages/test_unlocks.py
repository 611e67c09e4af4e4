"""The unlock projection of the page services: UnlockCreated recorded once per unlock and only for the
service's own kind of page; the checker, given the pages that unlocked the target (read with the page),
asks their services about the viewer's membership (none when nobody unlocked the page); the SQL store and
the page read's unlockers (`viewer_columns`) on both databases, as the memory fakes have them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

import pytest
import sqlalchemy as sa

from devinsider.billing.v1 import billing_pb2
from devinsider.billing.v1.events_pb2 import UnlockCreated
from devinsider.common.v1 import page_pb2
from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common import errors
from devinsider_common.consumer import Delivery, PermanentFailure
from devinsider_common.db.engine import create_service_engine
from devinsider_common.outbox.envelope import build_envelope
from devinsider_common.pages.model import Member, PageForViewer
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.repositories import MemberRepository, for_viewer, viewer_columns
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pages.tables import define_page_tables
from devinsider_common.pages.unlocks import ProjectedUnlocks, SqlUnlockStore, UnlockProjector, define_unlock_table
from devinsider_common.testing.memory import MemoryInbox, MemoryUnlocks, page_for_viewer

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class FakeUnitOfWork:
    """The projector's unit of work: an inbox and the unlocks, kept only when committed."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], bool] = {}
        self.rows: dict[str, tuple[str, str, datetime]] = {}
        self.commits = 0

    def __enter__(self) -> Self:
        self._seen, self._rows = dict(self.seen), dict(self.rows)
        self.inbox, self.unlocks = MemoryInbox(self._seen), MemoryUnlocks(self._rows)
        return self

    def commit(self) -> None:
        self.seen, self.rows = self._seen, self._rows
        self.commits += 1

    def rollback(self) -> None:
        self._seen, self._rows = dict(self.seen), dict(self.rows)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def delivery(target: str, unlocker: str = "investors/i1", unlock: str = "", message_id: str = "m1") -> Delivery:
    event = UnlockCreated(
        unlocker=page_pb2.PageRef(name=unlocker),
        unlock=billing_pb2.Unlock(
            name=unlock or f"{unlocker}/unlocks/u-{target.rpartition('/')[2]}",
            target=page_pb2.PageRef(name=target),
        ),
    )
    event.unlock.create_time.FromDatetime(T0)
    envelope = build_envelope(event, source="billing", external_id=event.unlock.name)
    return Delivery("company.unlocks", message_id, envelope, 1)


def projector() -> tuple[UnlockProjector, FakeUnitOfWork]:
    uow = FakeUnitOfWork()
    return UnlockProjector("company", PageKind.COMPANY, lambda: uow), uow


def test_an_unlock_of_one_of_its_pages_is_recorded_once() -> None:
    handle, uow = projector()
    assert handle.queue.name == "company.unlocks" and handle.queue.bindings[0].exchange == "unlock.exchange.fanout"
    assert handle(delivery("companies/c1")) is True
    assert uow.rows == {"investors/i1/unlocks/u-c1": ("c1", "investors/i1", T0)}
    assert handle(delivery("companies/c1")) is False  # the same message again: the inbox has it
    assert handle(delivery("companies/c1", message_id="m2")) is False  # replayed with a new id: known unlock
    assert list(uow.rows) == ["investors/i1/unlocks/u-c1"]


def test_unlocks_of_other_kinds_of_page_are_left_to_their_services() -> None:
    handle, uow = projector()
    assert handle(delivery("investors/i9", unlocker="companies/c1")) is False
    assert uow.rows == {} and uow.commits == 0


@pytest.mark.parametrize(
    "broken",
    [
        Delivery("company.unlocks", "m", build_envelope(UserDeleted(subject="s"), source="user", external_id="x"), 1),
        delivery("companies/", unlocker="investors/i1"),
        delivery("companies/c1", unlocker=""),
    ],
    ids=["another event", "no target id", "no unlocker"],
)
def test_an_event_it_cannot_use_is_a_permanent_failure(broken: Delivery) -> None:
    handle, uow = projector()
    with pytest.raises(PermanentFailure):
        handle(broken)
    assert uow.rows == {}


class Memberships:
    """`MembershipCheck`: who belongs to which page, the questions asked, and pages whose service is down."""

    def __init__(self, members: dict[str, set[str]], down: frozenset[str] = frozenset()) -> None:
        self.members = members
        self.down = down
        self.asked: list[str] = []

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool:
        assert permission is PagePermission.VIEW_PRIVATE
        self.asked.append(page)
        if page in self.down:
            raise errors.Unavailable(f"cannot check access to {page}: UNAVAILABLE")
        return subject in self.members.get(page, set())


def test_a_member_of_an_unlocking_page_sees_the_contacts_and_a_stranger_does_not() -> None:
    unlockers = ["investors/i1", "programs/p1"]
    access = Memberships({"investors/i1": {"vera"}, "programs/p1": {"paul"}})
    checker = ProjectedUnlocks(access)
    assert checker.has_unlocked("companies/c1", "vera", unlockers)
    assert checker.has_unlocked("companies/c1", "paul", unlockers)
    assert not checker.has_unlocked("companies/c1", "eve", unlockers)
    access.asked.clear()
    assert not checker.has_unlocked("companies/c2", "vera", ())
    assert access.asked == []  # nobody unlocked c2: no other service is asked


def test_an_unreachable_service_fails_closed_but_the_other_unlockers_still_count() -> None:
    unlockers = ["programs/p1", "investors/i1"]
    access = Memberships({"investors/i1": {"vera"}, "programs/p1": {"paul"}}, down=frozenset({"programs/p1"}))
    checker = ProjectedUnlocks(access)
    assert checker.has_unlocked("companies/c1", "vera", unlockers)  # p1's service is down, i1's answers
    assert not checker.has_unlocked("companies/c1", "paul", unlockers)  # only p1 could confirm him: public view


@pytest.mark.parametrize("store", ["memory", "sql"])
def test_the_stores_agree(store: str, each_database: tuple[str, str]) -> None:
    """Each unlock is recorded once, and a page read for a viewer (`viewer_columns` in SQL, `page_for_viewer`
    on the fakes) carries its role and the pages that unlocked the page, each once, by name."""
    url, schema = each_database
    engine = create_service_engine(url, schema)
    metadata = sa.MetaData()
    table, tables = define_unlock_table(metadata), define_page_tables(metadata)
    pages = sa.Table("pages", metadata, sa.Column("id", sa.String(36), primary_key=True))
    vera = Member("c2", "kc-vera", PageRole.EDITOR, "", "Vera", "vera@example.com", T0, T0)
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(sa.insert(pages), [{"id": "c1"}, {"id": "c2"}, {"id": "c3"}])
            MemberRepository(connection, tables).add(vera)
            rows: dict[str, tuple[str, str, datetime]] = {}
            unlocks = SqlUnlockStore(connection, table) if store == "sql" else MemoryUnlocks(rows)
            assert unlocks.record("programs/p1/unlocks/a", "c1", "programs/p1", T0 + timedelta(seconds=2))
            assert unlocks.record("investors/i1/unlocks/b", "c1", "investors/i1", T0)
            assert unlocks.record("investors/i1/unlocks/c", "c1", "investors/i1", T0 + timedelta(seconds=5))
            assert unlocks.record("investors/i1/unlocks/d", "c2", "investors/i1", T0)
            assert not unlocks.record("investors/i1/unlocks/b", "c1", "investors/i1", T0)

            def read(page_id: str, subject: str | None) -> PageForViewer[str] | None:
                if store == "memory":
                    found = page_id if page_id in ("c1", "c2", "c3") else None
                    return page_for_viewer(found, page_id, subject, {("c2", "kc-vera"): vera}, rows)
                viewer = viewer_columns(pages.c.id, subject, tables, table)
                row = connection.execute(sa.select(pages, *viewer).where(pages.c.id == page_id)).mappings().first()
                return for_viewer(row, row["id"]) if row else None

            assert read("c1", "kc-vera") == PageForViewer("c1", None, ("investors/i1", "programs/p1"))
            assert read("c2", "kc-vera") == PageForViewer("c2", PageRole.EDITOR, ("investors/i1",))
            assert read("c3", "kc-vera") == PageForViewer("c3")
            assert read("c1", None) == PageForViewer("c1")  # no viewer: nothing of theirs to read
            assert read("c4", "kc-vera") is None
    finally:
        metadata.drop_all(engine)
        engine.dispose()

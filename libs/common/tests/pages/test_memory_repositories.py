"""The contract of the member and invitation stores (`pages.ports.MemberStore`/`InvitationStore`),
with the same assertions on the in-memory fakes the use-case tests run on (`testing.memory`) and on
the SQL repositories on PostgreSQL and SQLite: what proves the fakes honest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection

from devinsider_common.clock import as_utc
from devinsider_common.db.engine import create_service_engine
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.pages.model import Invitation, InvitationState, Member
from devinsider_common.pages.ports import InvitationStore, MemberStore
from devinsider_common.pages.repositories import InvitationRepository, MemberRepository
from devinsider_common.pages.roles import PageRole
from devinsider_common.pages.tables import define_page_tables
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.memory import MemoryInvitations, MemoryMembers, MemoryStore, MemoryUnitOfWork
from devinsider_common.unit_of_work import DuplicateRecord

metadata = sa.MetaData()
TABLES = define_page_tables(metadata)
T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)
Row = TypeVar("Row", Member, Invitation)


class PagesUow(Protocol):
    @property
    def members(self) -> MemberStore: ...

    @property
    def invitations(self) -> InvitationStore: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class SqlPages(SqlUnitOfWork):
    members: MemberRepository
    invitations: InvitationRepository

    def _open_repositories(self, connection: Connection) -> None:
        self.members = MemberRepository(connection, TABLES)
        self.invitations = InvitationRepository(connection, TABLES)


class MemoryPages(MemoryUnitOfWork):
    members: MemoryMembers
    invitations: MemoryInvitations

    def _open_repositories(self) -> None:
        self.members = MemoryMembers(self.table("page_members"))
        self.invitations = MemoryInvitations(self.table("page_invitations"))


Uow = Callable[[], PagesUow]


@pytest.fixture(params=["memory", "postgres", "sqlite"])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Uow]:
    if request.param == "memory":
        store = MemoryStore()
        yield lambda: MemoryPages(store)
        return
    if request.param == "sqlite":
        url, schema = f"sqlite+pysqlite:///{tmp_path / 'pages.sqlite3'}", "pages"
    else:
        url, schema = request.getfixturevalue("pg_schema")
    engine = create_service_engine(url, schema)
    metadata.create_all(engine)
    yield lambda: SqlPages(engine)
    engine.dispose()


def utc(row: Row) -> Row:
    """`row` with its times in UTC (SQLite hands them back naive; see `clock.as_utc`)."""
    times: dict[str, Any] = {f.name: as_utc(v) for f in fields(row) if isinstance(v := getattr(row, f.name), datetime)}
    return replace(row, **times)


def member(subject: str, page: str = "p1", role: PageRole = PageRole.VIEWER, **values: Any) -> Member:
    values = {
        "user": "",
        "display_name": subject.title(),
        "email": f"{subject}@acme.io",
        "created_at": T0,
        "updated_at": T0,
        **values,
    }
    return Member(page, subject, role, **values)


def invitation(id: str, email: str = "bob@acme.io", page: str = "p1", **values: Any) -> Invitation:
    values = {"created_at": T0, "expires_at": T0 + timedelta(days=7), "message": "hi", **values}
    return Invitation(id, page, email, PageRole.EDITOR, "users/u-alice", f"hash-{id}", **values)


def stored(uow: Uow, *rows: Member | Invitation) -> None:
    with uow() as unit:
        for row in rows:
            if isinstance(row, Member):
                unit.members.add(row)
            else:
                unit.invitations.add(row)
        unit.commit()


def window(size: int, after: str | None = None) -> ListWindow:
    return ListWindow(size=size, after=(after,) if after is not None else None)


# Members


def test_a_member_is_got_by_subject_and_found_by_its_name(uow: Uow) -> None:
    alice = member("kc-alice", user="users/u-alice", role=PageRole.OWNER)
    bob = member("kc-bob")  # recorded without a user service: named by its subject
    stored(uow, alice, bob, member("kc-carol", page="p2", user="users/u-carol"))
    with uow() as unit:
        assert utc(unit.members.get("p1", "kc-alice") or bob) == alice
        assert unit.members.get("p1", "kc-carol") is None  # a member of another page
        assert unit.members.get("p1", "u-alice") is None  # get takes the subject
        assert utc(unit.members.find("p1", "u-alice", lock=True) or bob) == alice
        assert unit.members.find("p1", "kc-alice") is None  # a member with a user is named by it
        assert utc(unit.members.find("p1", "kc-bob") or alice) == bob
        assert unit.members.find("p1", "u-carol") is None
        assert unit.members.find("p2", "u-carol") is not None


def test_find_by_email_ignores_case_and_stays_on_the_page(uow: Uow) -> None:
    stored(uow, member("kc-alice", email="Alice@Acme.io"), member("kc-bob", page="p2", email="bob@acme.io"))
    with uow() as unit:
        found = unit.members.find_by_email("p1", "ALICE@acme.IO")
        assert found is not None and found.subject == "kc-alice"
        assert unit.members.find_by_email("p1", "bob@acme.io") is None
        assert unit.members.find_by_email("p2", "bob@acme.io") is not None


def test_a_subject_is_a_member_of_a_page_once(uow: Uow) -> None:
    stored(uow, member("kc-alice"))
    with pytest.raises(DuplicateRecord), uow() as unit:
        unit.members.add(member("kc-dan"))  # dropped with the failed transaction
        unit.members.add(member("kc-alice", role=PageRole.OWNER))
        unit.commit()
    stored(uow, member("kc-alice", page="p2"))  # the same subject on another page is another member
    with uow() as unit:
        assert unit.members.get("p1", "kc-dan") is None
        assert {(m.page_id, m.role) for m in unit.members.pages_of("kc-alice")} == {
            ("p1", PageRole.VIEWER),
            ("p2", PageRole.VIEWER),
        }


def test_save_replaces_an_existing_member_only_and_remove_deletes(uow: Uow) -> None:
    stored(uow, member("kc-alice"), member("kc-bob"))
    promoted = member("kc-alice", role=PageRole.ADMIN, display_name="Alice L.", updated_at=T0 + timedelta(hours=1))
    with uow() as unit:
        unit.members.save(promoted)
        unit.members.save(member("kc-ghost"))  # not a member: nothing is created
        unit.members.remove("p1", "kc-bob")
        unit.members.remove("p1", "kc-nobody")  # nothing to remove: no error
        unit.commit()
    with uow() as unit:
        assert utc(unit.members.get("p1", "kc-alice") or member("x")) == promoted
        assert unit.members.get("p1", "kc-ghost") is None
        assert unit.members.get("p1", "kc-bob") is None


def test_owner_count_counts_the_owners_of_one_page(uow: Uow) -> None:
    stored(
        uow,
        member("kc-a", role=PageRole.OWNER),
        member("kc-b", role=PageRole.OWNER),
        member("kc-c", role=PageRole.ADMIN),
        member("kc-d", page="p2", role=PageRole.OWNER),
    )
    with uow() as unit:
        assert unit.members.owner_count("p1") == 2
        assert unit.members.owner_count("p1", lock=True) == 2
        assert unit.members.owner_count("p2") == 1
        assert unit.members.owner_count("p3") == 0
        assert (unit.members.count("p1"), unit.members.count("p2"), unit.members.count("p3")) == (3, 1, 0)


def test_members_are_listed_by_subject_after_the_window_position(uow: Uow) -> None:
    roles = [PageRole.OWNER, PageRole.VIEWER, PageRole.EDITOR, PageRole.VIEWER, PageRole.VIEWER]
    stored(uow, *(member(f"s{i}", role=r) for i, r in reversed(list(enumerate(roles, 1)))))
    stored(uow, member("s0", page="p2"))
    with uow() as unit:

        def subjects(found: list[Member]) -> list[str]:
            return [m.subject for m in found]

        assert subjects(unit.members.list_after("p1", window(2))) == ["s1", "s2", "s3"]  # size + 1: more follow
        assert subjects(unit.members.list_after("p1", window(2, "s3"))) == ["s4", "s5"]
        assert subjects(unit.members.list_after("p1", window(10, "s5"))) == []
        assert subjects(unit.members.list_after("p1", window(1), PageRole.VIEWER)) == ["s2", "s4"]
        assert subjects(unit.members.list_after("p1", window(5, "s2"), PageRole.VIEWER)) == ["s4", "s5"]
        assert subjects(unit.members.list_after("p1", window(5), PageRole.ADMIN)) == []
        assert subjects(unit.members.list_after("p2", window(5))) == ["s0"]
        assert utc(unit.members.list_after("p1", window(1))[0]) == member("s1", role=PageRole.OWNER)


# Invitations


def test_an_invitation_is_stored_whole_and_got_by_id(uow: Uow) -> None:
    sent = invitation("i1", message="Welcome", member_id="")
    stored(uow, sent)
    with uow() as unit:
        assert utc(unit.invitations.get("i1") or invitation("x")) == sent
        assert utc(unit.invitations.get("i1", lock=True) or invitation("x")) == sent
        assert unit.invitations.get("i2") is None
        assert utc(unit.invitations.pending_for("p1", "bob@acme.io") or invitation("x")) == sent
        assert unit.invitations.pending_for("p2", "bob@acme.io") is None
        assert unit.invitations.pending_for("p1", "carol@acme.io") is None


def test_the_pending_invitations_to_an_address_are_found_on_every_page(uow: Uow) -> None:
    closed = replace(invitation("i3", page="p3"), state=InvitationState.REVOKED, closed_at=T0)
    stored(uow, invitation("i2", page="p2"), invitation("i1"), invitation("i4", email="carol@acme.io"), closed)
    with uow() as unit:
        assert [(i.id, i.page_id) for i in unit.invitations.pending_to("bob@acme.io")] == [("i1", "p1"), ("i2", "p2")]
        assert unit.invitations.pending_to("dave@acme.io") == []


@pytest.mark.parametrize(
    "twin",
    [
        invitation("i2"),  # a second pending invitation of the page and e-mail
        replace(invitation("i2", email="carol@acme.io"), token_hash="hash-i1"),  # the same token
        invitation("i1", email="carol@acme.io"),  # the same id
    ],
    ids=["pending-page-email", "token-hash", "id"],
)
def test_a_twin_invitation_is_a_duplicate_and_nothing_of_its_unit_is_kept(uow: Uow, twin: Invitation) -> None:
    stored(uow, invitation("i1"))
    with pytest.raises(DuplicateRecord), uow() as unit:
        unit.invitations.add(invitation("i3", email="dan@acme.io"))
        unit.invitations.add(twin)
        unit.commit()
    with uow() as unit:
        assert unit.invitations.get("i3") is None
        assert [i.id for i in unit.invitations.list_after(window(10))] == ["i1"]


def test_the_same_email_may_be_invited_to_another_page_or_again_once_closed(uow: Uow) -> None:
    stored(uow, invitation("i1"), invitation("i2", page="p2"))
    with uow() as unit:
        unit.invitations.save_state(replace(invitation("i1"), state=InvitationState.REVOKED, closed_at=T0))
        unit.commit()
    stored(uow, invitation("i3"))
    with uow() as unit:
        pending = unit.invitations.pending_for("p1", "bob@acme.io")
        assert pending is not None and pending.id == "i3"


def test_save_state_writes_the_state_the_close_time_and_the_member_only(uow: Uow) -> None:
    stored(uow, invitation("i1"))
    closed_at = T0 + timedelta(hours=2)
    accepted = replace(
        invitation("i1"),
        state=InvitationState.ACCEPTED,
        closed_at=closed_at,
        member_id="u-bob",
        role=PageRole.OWNER,  # not the state: not written
        message="changed",
    )
    with uow() as unit:
        unit.invitations.save_state(accepted)
        unit.invitations.save_state(invitation("i9"))  # unknown: nothing is created
        unit.commit()
    with uow() as unit:
        assert utc(unit.invitations.get("i1") or invitation("x")) == replace(
            invitation("i1"), state=InvitationState.ACCEPTED, closed_at=closed_at, member_id="u-bob"
        )
        assert unit.invitations.get("i9") is None
        assert unit.invitations.pending_for("p1", "bob@acme.io") is None


def test_invitations_are_listed_newest_first_with_filters(uow: Uow) -> None:
    revoked = InvitationState.REVOKED
    stored(
        uow,
        invitation("i1", email="bob@acme.io", state=revoked),
        invitation("i2", email="carol@acme.io"),
        invitation("i3", email="Bob@Acme.io", page="p2"),
        invitation("i4", email="dan@acme.io"),
        invitation("i5", email="bob@acme.io"),
    )
    with uow() as unit:

        def ids(**filters: Any) -> list[str]:
            size, after = filters.pop("size", 10), filters.pop("after", None)
            return [i.id for i in unit.invitations.list_after(window(size, after), **filters)]

        assert ids() == ["i5", "i4", "i3", "i2", "i1"]  # ids are time-ordered (UUIDv7): newest first
        assert ids(size=2) == ["i5", "i4", "i3"]  # size + 1: more follow
        assert ids(size=2, after="i3") == ["i2", "i1"]
        assert ids(page_id="p1") == ["i5", "i4", "i2", "i1"]
        assert ids(page_id="p1", state=InvitationState.PENDING) == ["i5", "i4", "i2"]
        assert ids(page_id="p1", state=revoked) == ["i1"]
        assert ids(email="BOB@acme.io") == ["i5", "i3", "i1"]  # the invitee's own, whatever the case
        assert ids(email="bob@acme.io", state=InvitationState.PENDING, after="i5") == ["i3"]
        assert ids(email="bob@acme.io", page_id="p2") == ["i3"]
        assert ids(page_id="p3") == []


def test_due_for_expiry_gives_pending_invitations_past_their_expiry_oldest_first(uow: Uow) -> None:
    now = T0 + timedelta(days=10)
    stored(
        uow,
        invitation("i1", email="a@acme.io", expires_at=now - timedelta(hours=1)),
        invitation("i2", email="b@acme.io", expires_at=now - timedelta(days=2)),
        invitation("i3", email="c@acme.io", expires_at=now),  # at its expiry: due
        invitation("i4", email="d@acme.io", expires_at=now + timedelta(seconds=1)),  # not yet
        invitation("i5", email="e@acme.io", expires_at=now - timedelta(days=3), state=InvitationState.DECLINED),
        invitation("i6", email="f@acme.io", page="p2", expires_at=now - timedelta(minutes=5)),
    )
    with uow() as unit:
        assert unit.invitations.due_for_expiry(now, 10) == ["i2", "i1", "i6", "i3"]
        assert unit.invitations.due_for_expiry(now, 2) == ["i2", "i1"]
        assert unit.invitations.due_for_expiry(T0, 10) == []
        # The seats they hold: pending and not expired at `now` (i3 expired at it, i5 is declined).
        assert (unit.invitations.pending_count("p1", now), unit.invitations.pending_count("p2", now)) == (1, 0)
        assert unit.invitations.pending_count("p1", T0) == 4


def test_created_since_gives_a_pages_creation_times_newest_first(uow: Uow) -> None:
    minutes = [0, 10, 20, 30]
    stored(uow, *(invitation(f"i{m}", email=f"x{m}@acme.io", created_at=T0 + timedelta(minutes=m)) for m in minutes))
    stored(uow, invitation("j1", page="p2", created_at=T0 + timedelta(minutes=25)))
    with uow() as unit:

        def since(minute: int, limit: int = 10, page: str = "p1") -> list[datetime]:
            found = unit.invitations.created_since(page, T0 + timedelta(minutes=minute), limit)
            return [as_utc(t) for t in found]

        assert since(-1) == [T0 + timedelta(minutes=m) for m in (30, 20, 10, 0)]
        assert since(10) == [T0 + timedelta(minutes=m) for m in (30, 20)]  # strictly after
        assert since(-1, limit=2) == [T0 + timedelta(minutes=30), T0 + timedelta(minutes=20)]
        assert since(30) == []
        assert since(0, page="p2") == [T0 + timedelta(minutes=25)]


# The unit of work


def test_commit_publishes_and_leaving_without_commit_drops(uow: Uow) -> None:
    with uow() as unit:
        unit.members.add(member("kc-alice"))
        unit.invitations.add(invitation("i1"))
        assert unit.members.get("p1", "kc-alice") is not None  # a unit reads its own writes
        with uow() as other:
            assert other.members.get("p1", "kc-alice") is None  # others do not, before the commit
    with uow() as unit:
        assert unit.members.get("p1", "kc-alice") is None
        assert unit.invitations.get("i1") is None
        unit.members.add(member("kc-alice"))
        unit.commit()
        unit.invitations.add(invitation("i1"))  # after the commit, not committed
    with uow() as unit:
        assert unit.members.get("p1", "kc-alice") is not None
        assert unit.invitations.get("i1") is None


def test_rollback_drops_the_writes_of_the_unit_so_far(uow: Uow) -> None:
    with uow() as unit:
        unit.members.add(member("kc-alice"))
        unit.rollback()
        assert unit.members.get("p1", "kc-alice") is None
    with uow() as unit:
        assert unit.members.get("p1", "kc-alice") is None


def test_a_failed_unit_leaves_the_next_one_working(uow: Uow) -> None:
    stored(uow, member("kc-alice"))
    with pytest.raises(DuplicateRecord), uow() as unit:
        unit.members.add(member("kc-alice"))
    stored(uow, member("kc-bob"))
    with uow() as unit:
        assert [m.subject for m in unit.members.list_after("p1", window(10))] == ["kc-alice", "kc-bob"]


def test_a_unit_keeps_what_another_committed_while_it_was_open(uow: Uow) -> None:
    """Interleaved units (a use case calling another one inside its transaction): each one's rows
    are kept, as a database keeps them, and a removal removes only its row."""
    stored(uow, member("kc-old"), member("kc-gone"))
    with uow() as outer:
        outer.members.get("p1", "kc-old")
        with uow() as inner:
            inner.members.add(member("kc-inner"))
            inner.members.save(member("kc-old", role=PageRole.ADMIN))
            inner.commit()
        outer.members.add(member("kc-outer"))
        outer.members.remove("p1", "kc-gone")
        outer.commit()
    with uow() as unit:
        listed = unit.members.list_after("p1", window(10))
        assert [(m.subject, m.role) for m in listed] == [
            ("kc-inner", PageRole.VIEWER),
            ("kc-old", PageRole.ADMIN),
            ("kc-outer", PageRole.VIEWER),
        ]

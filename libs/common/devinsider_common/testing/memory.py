"""In-memory units of work for use-case tests (cosmicpython's fakes): no database, same contract.

A `MemoryStore` holds the committed tables: dicts of immutable rows (frozen dataclasses, tuples,
strings) that repositories replace and never change in place, so copying a table shares its rows.
A unit of work copies the tables when it opens, its repositories read and write the copy, `commit` applies what the copy
changed, row by row, and leaving the block without a commit drops it: what the SQL unit of work
does with a transaction (rows another unit committed meanwhile stay, as in a database).
Unique keys raise `DuplicateRecord`, as the database's constraints do through the SQL unit of work
(a key two open units both insert is not detected at the commit: the last one wins; race tests that
need the database's unique indexes run on it). The adapter tests prove the same contract on
PostgreSQL and SQLite (libs/common/tests/pages/test_memory_repositories.py for the page stores).

Shared here: the store, the unit-of-work base, and the member and invitation repositories every
page service has (`devinsider_common.pages`), with a minimal page store for the shared page tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from devinsider_common.pages.model import DirectoryWindow, Invitation, InvitationState, Member, PageForViewer
from devinsider_common.pages.orphans import PageOrphanMarks
from devinsider_common.pages.ports import DirectoryUser, MembershipUnitOfWork
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import DuplicateRecord

T = TypeVar("T")
P = TypeVar("P")
Tables = dict[str, dict[Any, Any]]


def copy_tables(tables: Tables) -> Tables:
    """A copy of the tables that shares their (immutable) rows."""
    return {name: dict(rows) for name, rows in tables.items()}


class MemoryStore:
    """The committed state of a fake database: table name -> {key: row object}."""

    def __init__(self) -> None:
        self.tables: Tables = {}
        self.commits = 0
        self._lock = threading.Lock()

    def snapshot(self) -> Tables:
        with self._lock:
            return copy_tables(self.tables)

    def publish(self, tables: Tables) -> None:
        """Replace the whole committed state with `tables` (a test's seed) as one commit."""
        with self._lock:
            self.tables = copy_tables(tables)
            self.commits += 1

    def merge(self, opened: Tables, tables: Tables) -> None:
        """Commit what a unit of work changed since it opened (`opened` -> `tables`), row by row:
        the rows other units committed in the meantime stay, as a database keeps them."""
        with self._lock:
            for name in opened.keys() | tables.keys():
                before, after = opened.get(name, {}), tables.get(name, {})
                target = self.tables.setdefault(name, {})
                for key in before.keys() - after.keys():
                    target.pop(key, None)
                for key, row in after.items():
                    if key not in before or before[key] != row:
                        target[key] = row
            self.commits += 1


class MemoryUnitOfWork:
    """Base of a service's in-memory unit of work: subclasses build their repositories on `tables`
    in `_open_repositories` (the mirror of `SqlUnitOfWork._open_repositories`)."""

    def __init__(self, store: MemoryStore, read_only: bool = False) -> None:
        self.store = store
        self.read_only = read_only  # as SqlUnitOfWork's: it cannot commit, and here it must not write
        self._tables: Tables | None = None
        self._opened: Tables = {}  # the committed state the copy started from

    @property
    def tables(self) -> Tables:
        if self._tables is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._tables

    def table(self, name: str) -> dict[Any, Any]:
        return self.tables.setdefault(name, {})

    def __enter__(self) -> Self:
        self._begin()
        return self

    def _begin(self) -> None:
        self._opened = self.store.snapshot()
        self._tables = copy_tables(self._opened)
        self._open_repositories()

    def _open_repositories(self) -> None:
        """Hook: build the service's repositories on `self.tables`."""

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.store.merge(self._opened, self.tables)
        self._opened = copy_tables(self.tables)  # writes after the commit are a new transaction

    def rollback(self) -> None:
        self._begin()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        wrote = self.read_only and exc is None and _rows(self._tables or {}) != _rows(self._opened)
        self._tables = None  # an uncommitted copy is dropped, as a rolled-back transaction
        self._opened = {}
        if wrote:  # on the database each statement of a read-only unit of work commits on its own
            raise AssertionError("a read-only unit of work changed the data")


def _rows(tables: Tables) -> Tables:
    """The tables that hold rows (a read creates the tables it looks in)."""
    return {name: rows for name, rows in tables.items() if rows}


def insert_unique(table: dict[Any, T], key: Any, row: T, what: str = "row") -> None:
    """Add `row` under `key`, or raise DuplicateRecord as a primary or unique key would."""
    if key in table:
        raise DuplicateRecord(f"{what} {key!r} exists")
    table[key] = row


def window_of(
    rows: Iterable[T], window: ListWindow, key: Callable[[T], tuple[Any, ...]], descending: bool = False
) -> list[T]:
    """The rows after `window.after` in `key` order, `window.size + 1` at most (as a keyset query)."""
    ordered = sorted(rows, key=key, reverse=descending)
    if window.after:
        after = tuple(window.after)
        ordered = [r for r in ordered if (key(r) < after if descending else key(r) > after)]
    return ordered[: window.size + 1]


class MemoryMembers:
    """`devinsider_common.pages.repositories.MemberRepository` on a dict keyed (page id, subject)."""

    def __init__(self, table: dict[tuple[str, str], Member]) -> None:
        self._rows = table

    def get(self, page_id: str, subject: str, lock: bool = False) -> Member | None:
        return self._rows.get((page_id, subject))

    def find(self, page_id: str, member_id: str, lock: bool = False) -> Member | None:
        for member in self._of(page_id):
            if member.user == f"users/{member_id}" or (not member.user and member.subject == member_id):
                return member
        return None

    def find_by_email(self, page_id: str, email: str) -> Member | None:
        return next((m for m in self._of(page_id) if m.email.lower() == email.lower()), None)

    def add(self, member: Member) -> None:
        insert_unique(self._rows, (member.page_id, member.subject), member, "member")

    def save(self, member: Member) -> None:
        if (member.page_id, member.subject) in self._rows:
            self._rows[(member.page_id, member.subject)] = member

    def remove(self, page_id: str, subject: str) -> None:
        self._rows.pop((page_id, subject), None)

    def owner_count(self, page_id: str, lock: bool = False) -> int:
        return sum(1 for m in self._of(page_id) if m.role is PageRole.OWNER)

    def count(self, page_id: str) -> int:
        return len(self._of(page_id))

    def list_after(self, page_id: str, window: ListWindow, role: PageRole | None = None) -> list[Member]:
        rows = [m for m in self._of(page_id) if role is None or m.role is role]
        return window_of(rows, window, lambda m: (m.subject,))

    def pages_of(self, subject: str) -> list[Member]:
        return [m for m in self._rows.values() if m.subject == subject]

    def _of(self, page_id: str) -> list[Member]:
        return [m for m in self._rows.values() if m.page_id == page_id]


class MemoryInvitations:
    """`devinsider_common.pages.repositories.InvitationRepository` on a dict keyed by id; one
    pending invitation per page and e-mail, and unique token hashes, as the table's indexes."""

    def __init__(self, table: dict[str, Invitation]) -> None:
        self._rows = table

    def add(self, invitation: Invitation) -> None:
        for other in self._rows.values():
            if other.token_hash == invitation.token_hash or (
                invitation.state is InvitationState.PENDING
                and other.state is InvitationState.PENDING
                and (other.page_id, other.email) == (invitation.page_id, invitation.email)
            ):
                raise DuplicateRecord(f"invitation of {invitation.email} exists")
        insert_unique(self._rows, invitation.id, invitation, "invitation")

    def get(self, invitation_id: str, lock: bool = False) -> Invitation | None:
        return self._rows.get(invitation_id)

    def pending_for(self, page_id: str, email: str) -> Invitation | None:
        return next(
            (
                i
                for i in self._rows.values()
                if (i.page_id, i.email, i.state) == (page_id, email, InvitationState.PENDING)
            ),
            None,
        )

    def pending_to(self, email: str) -> list[Invitation]:
        found = [i for i in self._rows.values() if (i.email, i.state) == (email, InvitationState.PENDING)]
        return sorted(found, key=lambda i: i.id)

    def save_state(self, invitation: Invitation) -> None:
        stored = self._rows.get(invitation.id)
        if stored is not None:
            self._rows[invitation.id] = replace(
                stored, state=invitation.state, closed_at=invitation.closed_at, member_id=invitation.member_id
            )

    def pending_count(self, page_id: str, now: datetime) -> int:
        return sum(
            1
            for i in self._rows.values()
            if i.page_id == page_id and i.state is InvitationState.PENDING and i.expires_at > now
        )

    def created_since(self, page_id: str, since: datetime, limit: int) -> list[datetime]:
        times = sorted(i.created_at for i in self._rows.values() if i.page_id == page_id and i.created_at > since)
        return list(reversed(times))[:limit]

    def list_after(
        self,
        window: ListWindow,
        *,
        page_id: str | None = None,
        email: str | None = None,
        state: InvitationState | None = None,
    ) -> list[Invitation]:
        rows = [
            i
            for i in self._rows.values()
            if (page_id is None or i.page_id == page_id)
            and (email is None or i.email.lower() == email.lower())
            and (state is None or i.state is state)
        ]
        return window_of(rows, window, lambda i: (i.id,), descending=True)

    def due_for_expiry(self, now: datetime, limit: int) -> list[str]:
        due = [i for i in self._rows.values() if i.state is InvitationState.PENDING and i.expires_at <= now]
        return [i.id for i in sorted(due, key=lambda i: i.expires_at)][:limit]


@dataclass(frozen=True)
class MemoryPage:
    """A page of the shared page tests' minimal page service: a title and the orphan mark."""

    id: str
    title: str
    orphaned_at: datetime | None = None
    updated_at: datetime | None = None
    is_deleted: bool = False


class MemoryPages:
    """That service's page store, on a dict keyed by id (a page service's own has more to it)."""

    def __init__(self, table: dict[str, MemoryPage]) -> None:
        self._rows = table

    def get(self, page_id: str, lock: bool = False) -> MemoryPage | None:
        return self._rows.get(page_id)

    def save(self, page: MemoryPage) -> None:
        self._rows[page.id] = page

    def title(self, page_id: str) -> str | None:
        page = self._rows.get(page_id)
        return page.title if page is not None and not page.is_deleted else None


@dataclass(frozen=True)
class RecordedEvent:
    """One event a unit of work recorded: its kind, what it is about, and its details."""

    kind: str
    about: str
    details: dict[str, object] = field(default_factory=dict)


class RecordingPageEvents:
    """`MembershipEvents` recorded in a unit of work's outbox table (they exist once it commits, as
    outbox rows do); a page service's fake subclasses it with its own events, through `record`."""

    def __init__(self, outbox: dict[int, RecordedEvent]) -> None:
        self._outbox = outbox

    def record(self, kind: str, about: str, **details: object) -> None:
        self._outbox[len(self._outbox)] = RecordedEvent(kind, about, details)

    def member_added(self, member: Member, invitation: Invitation | None) -> None:
        self.record("MemberAdded", member.subject, member=member, invitation=invitation.id if invitation else "")

    def member_updated(self, member: Member, previous_role: PageRole) -> None:
        self.record("MemberUpdated", member.subject, role=member.role, previous_role=previous_role)

    def member_removed(self, member: Member, left: bool) -> None:
        self.record("MemberRemoved", member.subject, left=left)

    def invitation_sent(self, invitation: Invitation, token: str, page_title: str, inviter: Member) -> None:
        self.record("InvitationSent", invitation.email, invitation=invitation, token=token, page_title=page_title)

    def invitation_changed(self, invitation: Invitation) -> None:
        self.record("InvitationChanged", invitation.email, invitation=invitation.id, state=invitation.state)

    def page_updated(self, page: MemoryPage, changed: list[str]) -> None:
        """The `*Updated` event of a MemoryPage (a page service records its own)."""
        self.record("PageUpdated", page.id, page=page, changed=list(changed))


class MemoryInbox:
    """The `Inbox` port on a memory unit of work's table: a message id seen per consumer, kept or
    dropped with the unit of work's commit or rollback, as the SQL inbox is."""

    def __init__(self, table: dict[tuple[str, str], bool]) -> None:
        self._table = table

    def first_time(self, consumer: str, message_id: str) -> bool:
        if (consumer, message_id) in self._table:
            return False
        self._table[consumer, message_id] = True
        return True


class MemoryUnlocks:
    """The `UnlockStore` port (devinsider_common.pages.unlocks) on a memory unit of work's table."""

    def __init__(self, table: dict[str, tuple[str, str, datetime]]) -> None:
        self._table = table  # unlock -> (target_id, unlocker, created_at)

    def record(self, unlock: str, target_id: str, unlocker: str, created_at: datetime) -> bool:
        if unlock in self._table:
            return False
        self._table[unlock] = (target_id, unlocker, created_at)
        return True


def page_for_viewer(
    page: P | None,
    page_id: str,
    subject: str | None,
    members: dict[tuple[str, str], Member],
    unlocks: dict[str, tuple[str, str, datetime]] | None = None,
) -> PageForViewer[P] | None:
    """`get_for_viewer` of a memory page store: `page` with the viewer's role from the `members` table and
    the pages that unlocked it from the `unlocks` table (MemoryUnlocks'), as `pages.repositories.viewer_columns`
    reads them in SQL."""
    if page is None:
        return None
    if subject is None:
        return PageForViewer(page)
    member = members.get((page_id, subject))
    unlockers = {unlocker for target, unlocker, _ in (unlocks or {}).values() if target == page_id}
    return PageForViewer(page, member.role if member else None, tuple(sorted(unlockers)))


def directory_window(
    matching: Iterable[P],
    window: ListWindow,
    key: Callable[[P], tuple[Any, ...]],
    page_id: Callable[[P], str],
    subject: str | None,
    members: dict[tuple[str, str], Member],
    *,
    descending: bool = False,
    count_limit: int | None = None,
) -> DirectoryWindow[P]:
    """`list_after` of a memory page store, as `pages.repositories.read_directory` reads it in SQL: the
    window of the `matching` pages, each with the viewer's role, and their count (at most `count_limit`)."""
    found = list(matching)
    total = len(found) if count_limit is None else min(len(found), count_limit)
    seen = [
        PageForViewer(page, member.role if subject and (member := members.get((page_id(page), subject))) else None)
        for page in window_of(found, window, key, descending)
    ]
    return DirectoryWindow(seen, total)


class MemoryUsers:
    """The `UserLookup` port (the user service's users by name) on a dict, with who was asked."""

    def __init__(self, *users: DirectoryUser) -> None:
        self.users = {u.user: u for u in users}
        self.asked: list[str] = []

    def add(self, *users: DirectoryUser) -> None:
        self.users.update({u.user: u for u in users})

    def find(self, user: str) -> DirectoryUser | None:
        self.asked.append(user)
        return self.users.get(user)


def live_member_role(uow: MembershipUnitOfWork, page_id: str, subject: str) -> PageRole | None:
    """`page_role` of a memory page unit of work: the member's role on a page its `page_title` finds."""
    member = uow.members.get(page_id, subject)
    return member.role if member is not None and uow.page_title(page_id) is not None else None


class MemoryPageUow(MemoryUnitOfWork):
    """A minimal page service's unit of work, for the shared page tests: MemoryPages, members,
    invitations, their events, the orphan mark and an inbox (a page service's fake has its own pages)."""

    pages: MemoryPages
    members: MemoryMembers
    invitations: MemoryInvitations
    membership_events: RecordingPageEvents
    orphans: PageOrphanMarks[MemoryPage]
    inbox: MemoryInbox

    def _open_repositories(self) -> None:
        self.pages = MemoryPages(self.table("pages"))
        self.members = MemoryMembers(self.table("page_members"))
        self.invitations = MemoryInvitations(self.table("page_invitations"))
        self.membership_events = RecordingPageEvents(self.table("outbox"))
        self.orphans = PageOrphanMarks(self.pages.get, self.pages.save, self.membership_events.page_updated)
        self.inbox = MemoryInbox(self.table("inbox"))

    def page_title(self, page_id: str) -> str | None:
        return self.pages.title(page_id)

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        return live_member_role(self, page_id, subject)

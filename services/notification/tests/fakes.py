"""In-memory doubles of the notification service's unit of work (cosmicpython's fakes).

`FakeNotificationUnitOfWork` honours `ports.NotificationUnitOfWork` on a `MemoryStore`: each store keeps
frozen rows in the unit of work's copy of the tables, so a commit publishes the writes and leaving without
one drops them; keys raise `DuplicateRecord` as the SQL schema's do. Mails go to an "outbox" table in the
same transaction (`mails(store)` reads them back). `tests/adapters/test_repositories.py` runs the same
contract on this fake and on the SQL unit of work (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from devinsider_common.clock import as_utc
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.memory import MemoryInbox, MemoryStore, MemoryUnitOfWork, insert_unique, window_of
from notification_service.domain.digest import DigestItem
from notification_service.domain.facts import MemberChanged, PageChanged, UserChanged
from notification_service.domain.notifications import KnownUser, Membership, Notification
from notification_service.domain.preferences import Category, Preferences


def _newer(table: dict[Any, Any], key: Any, at: datetime) -> bool:
    stored = table.get(key)
    return stored is None or as_utc(stored[-1]) <= as_utc(at)


class MemoryMemberships:
    def __init__(self, table: dict[tuple[str, str], tuple[Any, ...]]) -> None:
        self._rows = table  # (page, member) -> (change, as_of)

    def apply(self, change: MemberChanged) -> bool:
        key = (change.page.name, change.member)
        if not _newer(self._rows, key, change.at):
            return False
        if change.role is None:
            change = replace(change, email="", display_name="")
        self._rows[key] = (change, change.at)
        return True

    def _current(self) -> list[Membership]:
        found = []
        for (_, member), (change, _) in sorted(self._rows.items()):
            if change.role is not None:
                found.append(
                    Membership(
                        change.page, member, change.subject, change.role, change.email.lower(), change.display_name
                    )
                )
        return found

    def members_of(self, page: str, roles: frozenset[PageRole] | None = None) -> list[Membership]:
        return [m for m in self._current() if m.page.name == page and (roles is None or m.role in roles)]

    def of_member(self, member: str) -> list[Membership]:
        return [m for m in self._current() if m.member == member]

    def forget(self, members: set[str]) -> int:
        gone = [key for key in self._rows if key[1] in members]
        for key in gone:
            del self._rows[key]
        return len(gone)


class MemoryUsers:
    def __init__(self, table: dict[str, tuple[KnownUser, datetime]]) -> None:
        self._rows = table

    def apply(self, change: UserChanged) -> bool:
        if not _newer(self._rows, change.user, change.at):
            return False
        user = KnownUser(change.user, change.subject, change.email.lower(), change.display_name)
        self._rows[change.user] = (user, change.at)
        return True

    def get(self, user: str) -> KnownUser | None:
        found = self._rows.get(user)
        return found[0] if found else None

    def find_by_email(self, email: str) -> KnownUser | None:
        found = sorted((u for u, _ in self._rows.values() if u.email == email.lower()), key=lambda u: u.user)
        return found[0] if found else None

    def forget(self, users: set[str]) -> int:
        gone = [u for u in self._rows if u in users]
        for user in gone:
            del self._rows[user]
        return len(gone)


class MemoryPageTitles:
    def __init__(self, table: dict[str, tuple[str, bool, datetime]]) -> None:
        self._rows = table

    def apply(self, change: PageChanged) -> bool:
        if not _newer(self._rows, change.page.name, change.at):
            return False
        self._rows[change.page.name] = ("" if change.deleted else change.display_name, change.deleted, change.at)
        return True

    def title(self, page: str) -> str:
        found = self._rows.get(page)
        return found[0] if found and not found[1] else ""


class MemoryNotifications:
    def __init__(self, table: dict[str, Notification]) -> None:
        self._rows = table

    def add(self, notification: Notification) -> None:
        insert_unique(self._rows, notification.id, notification, "notification")

    def get(self, recipient: str, notification_id: str) -> Notification | None:
        found = self._rows.get(notification_id)
        return found if found is not None and found.recipient == recipient else None

    def list_after(
        self, recipient: str, window: ListWindow, unread_only: bool, category: Category | None
    ) -> list[Notification]:
        rows = [
            n
            for n in self._rows.values()
            if n.recipient == recipient
            and (not unread_only or n.read_at is None)
            and (category is None or n.category is category)
        ]
        return window_of(rows, window, lambda n: (n.id,), descending=True)

    def unread_count(self, recipient: str) -> int:
        return sum(1 for n in self._rows.values() if n.recipient == recipient and n.read_at is None)

    def mark_read(self, notification: Notification) -> None:
        stored = self._rows.get(notification.id)
        if stored is not None and stored.read_at is None:
            self._rows[notification.id] = replace(stored, read_at=notification.read_at)

    def mark_all_read(self, recipient: str, category: Category | None, through: str | None, at: datetime) -> int:
        marked = 0
        for n in list(self._rows.values()):
            if (
                n.recipient != recipient
                or n.read_at is not None
                or (category is not None and n.category is not category)
            ):
                continue
            if through is not None and n.id > through:
                continue
            self._rows[n.id] = replace(n, read_at=at)
            marked += 1
        return marked

    def forget(self, recipient: str) -> int:
        gone = [i for i, n in self._rows.items() if n.recipient == recipient]
        for notification_id in gone:
            del self._rows[notification_id]
        return len(gone)

    def delete_before(self, before: datetime, limit: int) -> int:
        old = sorted(i for i, n in self._rows.items() if as_utc(n.created_at) < before)[:limit]
        for notification_id in old:
            del self._rows[notification_id]
        return len(old)


class MemoryDeliveries:
    def __init__(self, table: dict[tuple[str, str], datetime]) -> None:
        self._rows = table

    def first_time(self, recipient: str, key: str, at: datetime) -> bool:
        if (recipient, key) in self._rows:
            return False
        self._rows[recipient, key] = at
        return True

    def forget(self, recipient: str) -> int:
        gone = [k for k in self._rows if k[0] == recipient]
        for key in gone:
            del self._rows[key]
        return len(gone)

    def delete_before(self, before: datetime, limit: int) -> int:
        old = sorted(k for k, at in self._rows.items() if as_utc(at) < before)[:limit]
        for key in old:
            del self._rows[key]
        return len(old)


class MemoryDigests:
    def __init__(self, table: dict[tuple[str, str], DigestItem]) -> None:
        self._rows = table

    def add(self, item: DigestItem) -> None:
        insert_unique(self._rows, (item.recipient, item.key), item, "digest item")

    def recipients_before(self, before: datetime, limit: int) -> list[str]:
        return sorted({i.recipient for i in self._rows.values() if as_utc(i.created_at) < before})[:limit]

    def items_before(self, recipient: str, before: datetime) -> list[DigestItem]:
        found = [i for i in self._rows.values() if i.recipient == recipient and as_utc(i.created_at) < before]
        return sorted(found, key=lambda i: (i.created_at, i.key))

    def remove(self, recipient: str, keys: list[str]) -> int:
        gone = [(recipient, k) for k in keys if (recipient, k) in self._rows]
        for key in gone:
            del self._rows[key]
        return len(gone)

    def forget(self, recipient: str) -> int:
        return self.remove(recipient, [k for r, k in list(self._rows) if r == recipient])


class MemoryPreferences:
    def __init__(self, table: dict[str, Preferences]) -> None:
        self._rows = table

    def get(self, user: str) -> Preferences | None:
        return self._rows.get(user)

    def save(self, preferences: Preferences) -> None:
        self._rows[preferences.user] = preferences

    def forget(self, user: str) -> int:
        return 1 if self._rows.pop(user, None) is not None else 0


@dataclass(frozen=True)
class SentMail:
    template: str
    to_email: str
    to_name: str
    locale: str
    variables: Mapping[str, str]
    external_id: str


class RecordedMail:
    def __init__(self, table: dict[int, SentMail]) -> None:
        self._rows = table

    def send(
        self, template: str, to_email: str, to_name: str, locale: str, variables: Mapping[str, str], external_id: str
    ) -> None:
        self._rows[len(self._rows)] = SentMail(template, to_email, to_name, locale, dict(variables), external_id)


class FakeNotificationUnitOfWork(MemoryUnitOfWork):
    memberships: MemoryMemberships
    users: MemoryUsers
    pages: MemoryPageTitles
    notifications: MemoryNotifications
    deliveries: MemoryDeliveries
    digests: MemoryDigests
    preferences: MemoryPreferences
    mail: RecordedMail
    inbox: MemoryInbox

    def _open_repositories(self) -> None:
        self.memberships = MemoryMemberships(self.table("memberships"))
        self.users = MemoryUsers(self.table("known_users"))
        self.pages = MemoryPageTitles(self.table("page_titles"))
        self.notifications = MemoryNotifications(self.table("notifications"))
        self.deliveries = MemoryDeliveries(self.table("deliveries"))
        self.digests = MemoryDigests(self.table("digest_items"))
        self.preferences = MemoryPreferences(self.table("preferences"))
        self.mail = RecordedMail(self.table("outbox"))
        self.inbox = MemoryInbox(self.table("inbox"))


def mails(store: MemoryStore) -> list[SentMail]:
    """The mails committed to the outbox, in order."""
    rows = store.tables.get("outbox", {})
    return [rows[i] for i in sorted(rows)]

"""What the use cases need from the outside world, as ports: the unit of work and its stores (SQL:
`unit_of_work.SqlNotificationUnitOfWork`; tests: `tests/fakes.py`), the mail outbox, who the caller is."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider_common.auth.principal import Principal
from devinsider_common.consumer import Inbox
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import UnitOfWork
from notification_service.domain.digest import DigestItem
from notification_service.domain.facts import Fact, MemberChanged, PageChanged, UserChanged
from notification_service.domain.notifications import KnownUser, Membership, Notification
from notification_service.domain.preferences import Category, Preferences

# -- projections ---------------------------------------------------------------------------------------


class MembershipStore(Protocol):
    """Who is a member of which page, as the page services' member events said (newest event wins)."""

    def apply(self, change: MemberChanged) -> bool:
        """Store the change unless a later one is stored (a removal is kept as a mark without the person's
        name or address); True when it changed something."""
        ...

    def members_of(self, page: str, roles: frozenset[PageRole] | None = None) -> list[Membership]:
        """The page's current members (with one of `roles`), oldest id first."""
        ...

    def of_member(self, member: str) -> list[Membership]:
        """The current memberships of a member id."""
        ...

    def forget(self, members: set[str]) -> int:
        """Remove every row of these member ids (an erased account); how many."""
        ...


class UserStore(Protocol):
    def apply(self, change: UserChanged) -> bool: ...

    def get(self, user: str) -> KnownUser | None: ...

    def find_by_email(self, email: str) -> KnownUser | None: ...

    def forget(self, users: set[str]) -> int: ...


class PageTitles(Protocol):
    def apply(self, change: PageChanged) -> bool: ...

    def title(self, page: str) -> str:
        """The page's display name, "" when unknown or deleted."""
        ...


# -- notifications ---------------------------------------------------------------------------------------


class NotificationStore(Protocol):
    def add(self, notification: Notification) -> None: ...

    def get(self, recipient: str, notification_id: str) -> Notification | None: ...

    def list_after(
        self, recipient: str, window: ListWindow, unread_only: bool, category: Category | None
    ) -> list[Notification]:
        """Newest first (by id), after `window.after` (an id), `window.size + 1` at most."""
        ...

    def unread_count(self, recipient: str) -> int: ...

    def mark_read(self, notification: Notification) -> None:
        """Store `notification`'s read time (`Notification.mark_read`)."""
        ...

    def mark_all_read(self, recipient: str, category: Category | None, through: str | None, at: datetime) -> int:
        """Mark the unread ones read (of `category`; with ids up to `through`); how many."""
        ...

    def forget(self, recipient: str) -> int: ...

    def delete_before(self, before: datetime, limit: int) -> int:
        """Delete notifications created before `before` (at most `limit`); how many."""
        ...


class DeliveryLog(Protocol):
    """What each recipient was given, by draft key: an event told twice (republished, replayed) tells
    nobody twice."""

    def first_time(self, recipient: str, key: str, at: datetime) -> bool: ...

    def forget(self, recipient: str) -> int: ...

    def delete_before(self, before: datetime, limit: int) -> int: ...


class DigestStore(Protocol):
    def add(self, item: DigestItem) -> None: ...

    def recipients_before(self, before: datetime, limit: int) -> list[str]:
        """Recipients with items created before `before`, in id order."""
        ...

    def items_before(self, recipient: str, before: datetime) -> list[DigestItem]: ...

    def remove(self, recipient: str, keys: list[str]) -> int:
        """Delete these items; how many were still there (a concurrent run took the others)."""
        ...

    def forget(self, recipient: str) -> int: ...


class PreferenceStore(Protocol):
    def get(self, user: str) -> Preferences | None: ...

    def save(self, preferences: Preferences) -> None: ...

    def forget(self, user: str) -> int: ...


class MailOutbox(Protocol):
    """`MailRequested` on `mail.exchange.direct`, written to the outbox in the unit of work."""

    def send(
        self,
        template: str,
        to_email: str,
        to_name: str,
        locale: str,
        variables: Mapping[str, str],
        external_id: str,
    ) -> None: ...


class NotificationUnitOfWork(UnitOfWork, Protocol):
    """One transaction over the service's stores, its mail outbox and its inbox."""

    @property
    def memberships(self) -> MembershipStore: ...

    @property
    def users(self) -> UserStore: ...

    @property
    def pages(self) -> PageTitles: ...

    @property
    def notifications(self) -> NotificationStore: ...

    @property
    def deliveries(self) -> DeliveryLog: ...

    @property
    def digests(self) -> DigestStore: ...

    @property
    def preferences(self) -> PreferenceStore: ...

    @property
    def mail(self) -> MailOutbox: ...

    @property
    def inbox(self) -> Inbox: ...


# -- the outside world -----------------------------------------------------------------------------------


class CallerIdentity(Protocol):
    def user_of(self, principal: Principal) -> str:
        """The caller's user id (`users/{id}` without `users/`), "" when the caller is no user."""
        ...


class EventReader(Protocol):
    def __call__(self, envelope: EventEnvelope) -> Fact | None:
        """The fact `envelope` reports; None for an event nothing here needs; ValueError when unreadable."""
        ...

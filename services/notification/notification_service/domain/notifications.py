"""Notifications, and what becomes one: a draft (what to say, to which category, with which mail) for an
audience (a page's members, or one user)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PageRole
from notification_service.domain.preferences import Category

# Owners and admins: who manages a page's billing (PagePermission.MANAGE_BILLING).
MANAGERS = frozenset({PageRole.OWNER, PageRole.ADMIN})


@dataclass(frozen=True)
class Notification:
    id: str
    recipient: str  # the user's id
    category: Category
    kind: str
    title: str
    body: str
    page: str  # the recipient's page it concerns ("" when none)
    resource: str
    params: Mapping[str, str]
    created_at: datetime
    read_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"users/{self.recipient}/notifications/{self.id}"

    @property
    def read(self) -> bool:
        return self.read_at is not None

    def mark_read(self, now: datetime) -> Notification:
        """Read from now on; a read notification keeps its first read time."""
        return self if self.read_at is not None else replace(self, read_at=now)


@dataclass(frozen=True)
class MailDraft:
    template: str
    variables: Mapping[str, str]
    # Only these users get the mail (the in-app notification still goes to every recipient); None: all.
    only: frozenset[str] | None = None


@dataclass(frozen=True)
class DigestEntry:
    """A match waiting for the recipient's next digest mail (instead of a mail of its own)."""

    match: str  # the other page's name
    match_display_name: str
    page_display_name: str  # the recipient's page
    score: float


@dataclass(frozen=True)
class Draft:
    key: str  # idempotency: one delivery per recipient and key (`unlock.received:{unlock}`)
    category: Category
    kind: str
    title: str
    body: str
    page: str
    resource: str
    params: Mapping[str, str] = field(default_factory=dict)
    mail: MailDraft | None = None
    digest: DigestEntry | None = None


@dataclass(frozen=True)
class Audience:
    """Who gets a draft: the members of `page` (holding one of `roles`, or all), or the one `user`."""

    page: PageName | None = None
    roles: frozenset[PageRole] | None = None
    user: str = ""

    @classmethod
    def members(cls, page: PageName, roles: frozenset[PageRole] | None = None) -> Audience:
        return cls(page=page, roles=roles)


@dataclass(frozen=True)
class Recipient:
    user: str
    email: str
    display_name: str


@dataclass(frozen=True)
class Membership:
    page: PageName
    member: str
    subject: str
    role: PageRole
    email: str
    display_name: str


@dataclass(frozen=True)
class KnownUser:
    user: str
    subject: str
    email: str
    display_name: str

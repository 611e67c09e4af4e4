"""What the shared membership use cases need from a page service (its unit of work, its events)
and from the user directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from devinsider_common.auth.principal import Principal
from devinsider_common.pages.model import Invitation, InvitationState, Member
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow


class MemberStore(Protocol):
    """A page service's members (SQL: `pages.repositories.MemberRepository`; tests: `MemoryMembers`)."""

    def get(self, page_id: str, subject: str, lock: bool = False) -> Member | None: ...

    def find(self, page_id: str, member_id: str, lock: bool = False) -> Member | None:
        """The member named `{page}/members/{member_id}` (see Member.id)."""
        ...

    def find_by_email(self, page_id: str, email: str) -> Member | None: ...

    def add(self, member: Member) -> None:
        """Raises DuplicateRecord when the subject is already a member of the page."""
        ...

    def save(self, member: Member) -> None: ...

    def remove(self, page_id: str, subject: str) -> None: ...

    def owner_count(self, page_id: str, lock: bool = False) -> int: ...

    def count(self, page_id: str) -> int:
        """Members of the page (each takes a seat)."""
        ...

    def list_after(self, page_id: str, window: ListWindow, role: PageRole | None = None) -> list[Member]: ...

    def pages_of(self, subject: str) -> list[Member]: ...


class InvitationStore(Protocol):
    """A page service's invitations (SQL: `InvitationRepository`; tests: `MemoryInvitations`)."""

    def add(self, invitation: Invitation) -> None:
        """Raises DuplicateRecord for a second pending invitation of the page and e-mail."""
        ...

    def get(self, invitation_id: str, lock: bool = False) -> Invitation | None: ...

    def pending_for(self, page_id: str, email: str) -> Invitation | None: ...

    def pending_to(self, email: str) -> list[Invitation]:
        """Every pending invitation addressed to `email` (lower-case), on any page."""
        ...

    def save_state(self, invitation: Invitation) -> None: ...

    def pending_count(self, page_id: str, now: datetime) -> int:
        """Pending invitations of the page not expired at `now` (each holds a seat)."""
        ...

    def created_since(self, page_id: str, since: datetime, limit: int) -> list[datetime]: ...

    def list_after(
        self,
        window: ListWindow,
        *,
        page_id: str | None = None,
        email: str | None = None,
        state: InvitationState | None = None,
    ) -> list[Invitation]: ...

    def due_for_expiry(self, now: datetime, limit: int) -> list[str]: ...


class MembershipEvents(Protocol):
    """The page service's own events (its proto messages on its exchanges)."""

    def member_added(self, member: Member, invitation: Invitation | None) -> None: ...

    def member_updated(self, member: Member, previous_role: PageRole) -> None: ...

    def member_removed(self, member: Member, left: bool) -> None: ...

    def invitation_sent(self, invitation: Invitation, token: str, page_title: str, inviter: Member) -> None: ...

    def invitation_changed(self, invitation: Invitation) -> None: ...


class PageOrphans(Protocol):
    """The orphan mark of a page service's pages (`orphaned_at` on its own page rows): set when a page
    loses its last member, cleared when it gets an owner again. Each change records the page's
    `*Updated` event with `orphan_time` changed (SQL and fakes: `pages.orphans.PageOrphanMarks`)."""

    def mark(self, page_id: str, now: datetime) -> bool:
        """Mark a live page orphaned at `now`; False (nothing written) when it already is, so the first
        mark stays, or when the page is gone."""
        ...

    def clear(self, page_id: str, now: datetime) -> bool:
        """Clear the mark of a live page; False (nothing written) when it has none."""
        ...

    def orphaned_at(self, page_id: str) -> datetime | None:
        """When a live page was marked orphaned; None when it is not (or is gone)."""
        ...


class MembershipUnitOfWork(Protocol):
    # Read-only in the Protocol, so a unit of work may hold a narrower type (the SQL repository).
    @property
    def members(self) -> MemberStore: ...

    @property
    def invitations(self) -> InvitationStore: ...

    @property
    def membership_events(self) -> MembershipEvents: ...

    @property
    def orphans(self) -> PageOrphans: ...

    def page_title(self, page_id: str) -> str | None:
        """The page's display name, or None when it does not exist (or is deleted)."""
        ...

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        """The subject's role on the page; None when not a member, or when the page does not exist (or is
        deleted). One statement: CheckPageAccess answers on it."""
        ...

    def commit(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@dataclass(frozen=True)
class UserSummary:
    user: str  # `users/{id}`, empty when unknown
    display_name: str
    email: str


class UserDirectory(Protocol):
    """Who the caller is, for member records (from the user service or from the token)."""

    def describe(self, principal: Principal) -> UserSummary: ...


@dataclass(frozen=True)
class DirectoryUser:
    """A user of the user service, as a page service records a member it did not see sign in."""

    user: str  # `users/{id}`
    subject: str
    display_name: str
    email: str
    refusal: str = ""  # why the platform refuses the account (CheckUserAccess's reason); empty when allowed


class UserLookup(Protocol):
    """Other users than the caller, by name (the user service's GetUser and CheckUserAccess)."""

    def find(self, user: str) -> DirectoryUser | None:
        """The user named `users/{id}`; None when it is unknown or deleted."""
        ...


def display_name(given_name: str, family_name: str, email: str) -> str:
    """A member's display name: the given and family names, else the e-mail address."""
    return (" ".join(p for p in (given_name, family_name) if p) or email)[:200]


class ClaimsDirectory:
    """Describes the caller from its token's claims (no call to the user service)."""

    def describe(self, principal: Principal) -> UserSummary:
        name = display_name(principal.given_name, principal.family_name, principal.email)
        return UserSummary(user="", display_name=name, email=principal.email.lower())

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


class MembershipUnitOfWork(Protocol):
    # Read-only in the Protocol, so a unit of work may hold a narrower type (the SQL repository).
    @property
    def members(self) -> MemberStore: ...

    @property
    def invitations(self) -> InvitationStore: ...

    @property
    def membership_events(self) -> MembershipEvents: ...

    def page_title(self, page_id: str) -> str | None:
        """The page's display name, or None when it does not exist (or is deleted)."""
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


class ClaimsDirectory:
    """Describes the caller from its token's claims (no call to the user service)."""

    def describe(self, principal: Principal) -> UserSummary:
        name = " ".join(p for p in (principal.given_name, principal.family_name) if p) or principal.email
        return UserSummary(user="", display_name=name[:200], email=principal.email.lower())

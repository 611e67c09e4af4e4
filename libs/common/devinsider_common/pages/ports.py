"""What the shared membership use cases need from a page service (its unit of work, its events)
and from the user directory."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from devinsider_common.auth.principal import Principal
from devinsider_common.pages.model import Invitation, Member
from devinsider_common.pages.repositories import InvitationRepository, MemberRepository
from devinsider_common.pages.roles import PageRole


class MembershipEvents(Protocol):
    """The page service's own events (its proto messages on its exchanges)."""

    def member_added(self, member: Member, invitation: Invitation | None) -> None: ...

    def member_updated(self, member: Member, previous_role: PageRole) -> None: ...

    def member_removed(self, member: Member, left: bool) -> None: ...

    def invitation_sent(self, invitation: Invitation, token: str, page_title: str, inviter: Member) -> None: ...

    def invitation_changed(self, invitation: Invitation) -> None: ...


class MembershipUnitOfWork(Protocol):
    members: MemberRepository
    invitations: InvitationRepository
    membership_events: MembershipEvents

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

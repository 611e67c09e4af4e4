"""Members and invitations of a page, and the rules that govern them. No I/O.

Members are keyed by the user's Keycloak subject (what tokens and access checks carry) and named
by their user's id (`{page}/members/{id}` for `users/{id}`). Invitation tokens are one-time secrets:
only their SHA-256 is stored; the token itself travels once, in the invitation mail.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, TypeVar

from devinsider_common import errors
from devinsider_common.clock import as_utc
from devinsider_common.pages.roles import PagePermission, PageRole, allows

P = TypeVar("P")


@dataclass(frozen=True)
class Member:
    page_id: str
    subject: str
    role: PageRole
    user: str = ""  # `users/{id}` in the user service, when known
    display_name: str = ""
    email: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def id(self) -> str:
        """The id in the member's resource name: its user's id, or the subject of a member recorded
        without a user service (USER_TARGET unset)."""
        return self.user.removeprefix("users/") if self.user else self.subject


@dataclass(frozen=True)
class PageForViewer(Generic[P]):
    """A page as one read gives it to a viewer (`get_for_viewer` of a page store): the page, the viewer's
    role on it (None: not a member, or no viewer), and the pages that unlocked its contact details (each
    once, by name; empty without a viewer or where the service keeps no unlock projection)."""

    page: P
    role: PageRole | None = None
    unlockers: tuple[str, ...] = ()


@dataclass(frozen=True)
class DirectoryWindow(Generic[P]):
    """A directory window as one read gives it (`list_after` of a page store): `window.size + 1` pages at
    most, each with the viewer's role, and how many pages the filters find in all (capped where the
    store caps its count)."""

    seen: list[PageForViewer[P]]
    total: int

    @property
    def pages(self) -> list[P]:
        return [s.page for s in self.seen]


class InvitationState(enum.IntEnum):
    """Values match devinsider.common.v1.InvitationState."""

    PENDING = 1
    ACCEPTED = 2
    DECLINED = 3
    REVOKED = 4
    EXPIRED = 5


@dataclass(frozen=True)
class Invitation:
    id: str
    page_id: str
    email: str
    role: PageRole
    inviter: str  # `users/{id}` of who invited (their subject without a user service)
    token_hash: str
    created_at: datetime
    expires_at: datetime
    message: str = ""
    state: InvitationState = InvitationState.PENDING
    closed_at: datetime | None = None
    member_id: str = ""  # the joined member's id (Member.id), once accepted

    def is_expired(self, now: datetime) -> bool:
        return as_utc(self.expires_at) <= now

    def _close(self, state: InvitationState, now: datetime, member_id: str = "") -> Invitation:
        if self.state is not InvitationState.PENDING:
            raise errors.FailedPrecondition(
                f"the invitation is {self.state.name.lower()}, not pending", reason="INVITATION_NOT_PENDING"
            )
        return replace(self, state=state, closed_at=now, member_id=member_id)

    def accept(self, token: str, member: Member, email_verified: bool, now: datetime) -> Invitation:
        """`member` joins: the token must match, and the caller's e-mail must be the invited one and
        verified (whoever reads the mailbox may join; a typed-in address proves nothing)."""
        self.check_token(token)
        if self.state is InvitationState.PENDING and self.is_expired(now):
            raise errors.FailedPrecondition("the invitation has expired", reason="INVITATION_EXPIRED")
        if member.email.strip().lower() != self.email:
            raise errors.PermissionDenied(
                "this invitation was sent to another e-mail address", reason="INVITATION_EMAIL_MISMATCH"
            )
        if not email_verified:
            raise errors.FailedPrecondition(
                "verify your e-mail address before accepting an invitation", reason="EMAIL_NOT_VERIFIED"
            )
        return self._close(InvitationState.ACCEPTED, now, member.id)

    def decline(self, now: datetime) -> Invitation:
        return self._close(InvitationState.DECLINED, now)

    def revoke(self, now: datetime) -> Invitation:
        return self._close(InvitationState.REVOKED, now)

    def expire(self, now: datetime) -> Invitation:
        if not self.is_expired(now):
            raise errors.FailedPrecondition("the invitation has not expired yet", reason="INVITATION_NOT_EXPIRED")
        return self._close(InvitationState.EXPIRED, now)

    def check_token(self, token: str) -> None:
        if not token or not hmac.compare_digest(hash_token(token), self.token_hash):
            raise errors.PermissionDenied("the invitation token is not valid", reason="INVITATION_TOKEN_INVALID")


def new_token() -> tuple[str, str]:
    """A fresh one-time token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def require(member: Member | None, permission: PagePermission) -> PageRole:
    """The caller's role when it allows `permission`; PERMISSION_DENIED otherwise (members and
    strangers alike, so the answer tells nothing about whether the page exists)."""
    if member is None or not allows(member.role, permission):
        raise errors.PermissionDenied(
            f"this needs the {permission.name.lower()} permission on the page", reason="PAGE_PERMISSION_DENIED"
        )
    return member.role


def check_can_assign(actor: PageRole, role: PageRole) -> None:
    """Nobody hands out a role above their own."""
    if not actor.outranks_or_equals(role):
        raise errors.PermissionDenied(
            f"a {actor.name.lower()} cannot grant the {role.name.lower()} role", reason="ROLE_ABOVE_OWN"
        )


def check_can_manage(actor: PageRole, target: Member) -> None:
    """Managers act only on members whose role does not outrank theirs."""
    if not actor.outranks_or_equals(target.role):
        raise errors.PermissionDenied(
            f"a {actor.name.lower()} cannot change a {target.role.name.lower()}", reason="MEMBER_OUTRANKS_CALLER"
        )


def check_keeps_an_owner(target: Member, new_role: PageRole | None, owner_count: int) -> None:
    """A page always keeps at least one owner (`new_role` None means the member goes away)."""
    if target.role is PageRole.OWNER and new_role is not PageRole.OWNER and owner_count <= 1:
        raise errors.FailedPrecondition("a page must keep at least one owner", reason="LAST_OWNER")

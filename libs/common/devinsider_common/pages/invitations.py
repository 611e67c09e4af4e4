"""Use cases on page invitations, shared by the company, investor and program services.

pending -> accepted | declined | revoked | expired; every other transition is FAILED_PRECONDITION.
Each page sends at most `rate.limit` invitations per window (counted from its invitation rows), so
a page cannot be used to mail strangers in bulk, and invites only while it has a free seat (`pages.seats`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from devinsider_common import errors, validation
from devinsider_common.auth.principal import Principal
from devinsider_common.errors import Violations
from devinsider_common.ids import new_id
from devinsider_common.pages.membership import Clock, PageMembers, UowFactory, authorize, ensure_page
from devinsider_common.pages.model import Invitation, InvitationState, check_can_assign, new_token
from devinsider_common.pages.ports import MembershipUnitOfWork
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pages.seats import SeatLimit
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.rate_limits import RateLimit
from devinsider_common.unit_of_work import DuplicateRecord


class InvitationRateSettings(Protocol):
    """The two settings every page service declares for its invitation rate limit."""

    invitation_rate_limit: int
    invitation_rate_window_seconds: float


def invitation_rate(settings: InvitationRateSettings) -> RateLimit:
    return RateLimit.per_seconds(settings.invitation_rate_limit, settings.invitation_rate_window_seconds)


class PageInvitations:
    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        limits: ListLimits,
        members: PageMembers,
        ttl: timedelta,
        rate: RateLimit | None = None,
        seats: SeatLimit | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits
        self._members = members
        self._ttl = ttl
        self._rate = rate or RateLimit()  # off unless the service configures it
        self._seats = seats  # none: no seat limit (a service run without billing)

    def create(self, principal: Principal, page_id: str, email: str, role: PageRole, message: str) -> Invitation:
        email = email.strip().lower()
        checks = Violations()
        validation.email(checks, "invitation.email", email, required=True)
        validation.text(checks, "invitation.message", message, max_len=1000)
        checks.raise_if_any("invalid invitation")
        token, token_hash = new_token()
        inviter_name = self._members.reference(principal)  # before the transaction: it may ask the user service
        seats = self._seats.seats(page_id) if self._seats else 0  # likewise: it may ask billing
        now = self._clock()
        try:
            with self._uow() as uow:
                inviter = authorize(uow, page_id, principal, PagePermission.MANAGE_MEMBERS)
                title = ensure_page(uow, page_id)
                check_can_assign(inviter.role, role)
                self._rate.check(
                    now,
                    lambda since, limit: uow.invitations.created_since(page_id, since, limit),
                    what="invitations per page",
                    reason="INVITATIONS_RATE_LIMITED",
                )
                if uow.invitations.pending_for(page_id, email) is not None:
                    raise errors.AlreadyExists(f"{email} already has a pending invitation", reason="INVITATION_PENDING")
                if uow.members.find_by_email(page_id, email) is not None:
                    raise errors.AlreadyExists(f"{email} is already a member", reason="ALREADY_MEMBER")
                if self._seats:
                    self._seats.require_free_seat(uow, page_id, seats, now)
                invitation = Invitation(
                    new_id(), page_id, email, role, inviter_name, token_hash, now, now + self._ttl, message.strip()
                )
                uow.invitations.add(invitation)
                uow.membership_events.invitation_sent(invitation, token, title, inviter)
                uow.commit()
        except DuplicateRecord as error:  # a concurrent identical invitation won the unique index
            raise errors.AlreadyExists(
                f"{email} already has a pending invitation", reason="INVITATION_PENDING"
            ) from error
        return invitation

    def list(
        self,
        principal: Principal,
        page_id: str | None,
        page_size: int,
        page_token: str,
        state: InvitationState | None,
    ) -> tuple[list[Invitation], str]:
        """A page's invitations (managers), or with `page_id` None the caller's own, by e-mail."""
        filters = {"page": page_id or "-", "state": int(state or 0)}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            if page_id is None:
                if not principal.email:
                    return [], ""
                found = uow.invitations.list_after(window, email=principal.email, state=state)
            else:
                authorize(uow, page_id, principal, PagePermission.MANAGE_MEMBERS)
                ensure_page(uow, page_id)
                found = uow.invitations.list_after(window, page_id=page_id, state=state)
        return finish_window(window, found)

    def accept(self, principal: Principal, page_id: str, invitation_id: str, token: str) -> Invitation:
        joining = self._members.new_member(principal, page_id, PageRole.VIEWER)  # may ask the user service
        try:
            with self._uow() as uow:
                invitation = self._get(uow, page_id, invitation_id)
                member = replace(joining, role=invitation.role)
                now = self._clock()
                accepted = invitation.accept(token, member, principal.email_verified, now)
                ensure_page(uow, page_id)
                if uow.members.get(page_id, principal.subject) is not None:
                    raise errors.AlreadyExists("you are already a member of this page", reason="ALREADY_MEMBER")
                uow.invitations.save_state(accepted)  # first: the loser of a race on this invitation fails here
                uow.members.add(member)
                uow.membership_events.member_added(member, accepted)
                uow.membership_events.invitation_changed(accepted)
                if member.role is PageRole.OWNER:  # an orphaned page has its owner again
                    uow.orphans.clear(page_id, now)
                uow.commit()
        except DuplicateRecord as error:  # joined concurrently through another invitation
            raise errors.AlreadyExists("you are already a member of this page", reason="ALREADY_MEMBER") from error
        return accepted

    def decline(self, principal: Principal | None, page_id: str, invitation_id: str, token: str) -> Invitation:
        """With the mailed token (no account needed), or as the signed-in invitee."""
        with self._uow() as uow:
            invitation = self._get(uow, page_id, invitation_id)
            is_invitee = principal is not None and principal.email.lower() == invitation.email
            if token or not is_invitee:
                invitation.check_token(token)
            return self._close(uow, invitation.decline(self._clock()))

    def revoke(self, principal: Principal, page_id: str, invitation_id: str) -> Invitation:
        with self._uow() as uow:
            authorize(uow, page_id, principal, PagePermission.MANAGE_MEMBERS)
            invitation = self._get(uow, page_id, invitation_id)
            return self._close(uow, invitation.revoke(self._clock()))

    def expire_due(self, batch: int = 100) -> int:
        """Mark pending invitations past their expiry as expired (the scheduled job)."""
        now = self._clock()
        with self._uow() as uow:
            due = uow.invitations.due_for_expiry(now, batch)
            for invitation_id in due:
                invitation = uow.invitations.get(invitation_id, lock=True)
                if invitation is not None and invitation.state is InvitationState.PENDING:
                    self._close(uow, invitation.expire(now), commit=False)
            uow.commit()
        return len(due)

    @staticmethod
    def _get(uow: MembershipUnitOfWork, page_id: str, invitation_id: str) -> Invitation:
        invitation = uow.invitations.get(invitation_id, lock=True)
        if invitation is None or invitation.page_id != page_id:
            raise errors.NotFound("no such invitation", reason="INVITATION_NOT_FOUND")
        return invitation

    @staticmethod
    def _close(uow: MembershipUnitOfWork, invitation: Invitation, commit: bool = True) -> Invitation:
        uow.invitations.save_state(invitation)
        uow.membership_events.invitation_changed(invitation)
        if commit:
            uow.commit()
        return invitation

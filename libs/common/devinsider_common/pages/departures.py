"""A deleted account leaves every page: the page services' handler of `UserDeleted`.

The user service publishes `UserDeleted` on `user_updates_exchange` (routing key `user.deleted`) when
Keycloak reports an account deleted. Each page service (company, investor, program) binds its own queue
`<service>.user-deletions` to it and, in one transaction with the inbox record:
- removes the user's member rows, and with them the name and e-mail address they held;
- hands a page the user owned alone to its next member (the longest-standing admin, else editor, else
  viewer), so a page never loses its owner while it has members; a page left with no member at all is
  marked orphaned (`orphaned_at`, with the page's `*Updated` event naming `orphan_time`) for staff to
  find and give an owner (`pages.orphans`);
- revokes the pending invitations addressed to the user's e-mail address, on any page;
- records `MemberRemoved` (and `MemberUpdated` for a successor, `InvitationChanged` for a revocation), as a
  departure and a revocation would.
Every effect is idempotent: a second delivery finds the inbox record, a replay with another message id
finds no member rows left, and a page already marked keeps its first `orphaned_at`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

import structlog

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.consumer import ConsumerQueue, Delivery, Inbox, PermanentFailure, Subscription
from devinsider_common.outbox.topology import USER_DELETED, USER_UPDATES, Binding
from devinsider_common.pages.model import Member
from devinsider_common.pages.ports import MembershipUnitOfWork
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow

log = structlog.get_logger("devinsider.pages.departures")

# Members looked at per role when choosing a successor (the longest-standing among them wins).
SUCCESSOR_CANDIDATES = 200


class DepartureUnitOfWork(MembershipUnitOfWork, Protocol):
    @property
    def inbox(self) -> Inbox: ...


class AccountDeletions:
    """The handler of `<service>.user-deletions`."""

    def __init__(self, service: str, uow: Callable[[], DepartureUnitOfWork], clock: Callable[[], datetime]) -> None:
        name = f"{service}.user-deletions"
        self.queue = ConsumerQueue(name, (Binding(USER_UPDATES, name, USER_DELETED),))
        self._uow = uow
        self._clock = clock

    def subscription(self) -> Subscription:
        return Subscription(self.queue, self)

    def __call__(self, delivery: Delivery) -> bool:
        event = delivery.payload(UserDeleted)
        subject, email = event.subject, event.email.strip().lower()
        if not subject:
            raise PermanentFailure("UserDeleted without a subject")
        with self._uow() as uow:
            if not uow.inbox.first_time(self.queue.name, delivery.message_id):
                return False
            memberships = uow.members.pages_of(subject)
            for member in memberships:
                self._hand_over(uow, member)
                uow.members.remove(member.page_id, subject)
                uow.membership_events.member_removed(member, True)
            invitations = uow.invitations.pending_to(email) if email else []
            for invitation in invitations:
                revoked = invitation.revoke(self._clock())
                uow.invitations.save_state(revoked)
                uow.membership_events.invitation_changed(revoked)
            uow.commit()
        log.info("account.left_pages", subject=subject, pages=len(memberships), invitations=len(invitations))
        return True

    def _hand_over(self, uow: DepartureUnitOfWork, member: Member) -> None:
        """A sole owner's page goes to its longest-standing admin, else editor, else viewer; with none
        left it is marked orphaned."""
        if member.role is not PageRole.OWNER or uow.members.owner_count(member.page_id, lock=True) > 1:
            return
        for role in (PageRole.ADMIN, PageRole.EDITOR, PageRole.VIEWER):
            candidates = uow.members.list_after(member.page_id, ListWindow(size=SUCCESSOR_CANDIDATES), role)
            others = [m for m in candidates if m.subject != member.subject]
            if others:
                chosen = min(others, key=lambda m: (m.created_at is None, m.created_at, m.subject))
                successor = replace(chosen, role=PageRole.OWNER, updated_at=self._clock())
                uow.members.save(successor)
                uow.membership_events.member_updated(successor, chosen.role)
                log.info("page.owner_succeeded", page=member.page_id, successor=successor.subject)
                return
        if uow.orphans.mark(member.page_id, self._clock()):
            log.warning("page.orphaned", page=member.page_id, former_owner=member.subject)

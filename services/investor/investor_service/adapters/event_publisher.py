"""The investor service's events, written to its outbox on the seed's exchanges.

Page, member and invitation events go to `odoo_investor.exchange.direct`, invitation mails to
`mail.exchange.direct`, both with the direct exchange's routing key (its queue's name); the
event type travels in the envelope and the AMQP `type` property. Every method runs inside the
caller's unit of work, so an event exists if and only if the change that caused it committed.
The one-time invitation token goes only into the mail, never into the Odoo event.
"""

from __future__ import annotations

from google.protobuf.message import Message

from devinsider.investor.v1 import events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter, add_direct, request_mail
from devinsider_common.pages.mail import invitation_mail_variables
from devinsider_common.pages.model import Invitation, Member
from devinsider_common.pages.proto_mapping import invitation_name, member_name
from devinsider_common.pages.roles import PageRole
from investor_service.adapters.proto_mapping import COLLECTION, full_view, invitation_message, member_message
from investor_service.domain.model import Investor

INVITATION_TEMPLATE = "investor_invitation"


class InvestorEventPublisher:
    """Investor events, and the MembershipEvents port of the shared page use cases."""

    def __init__(self, outbox: OutboxWriter, accept_url: str) -> None:
        self._outbox = outbox
        self._accept_url = accept_url

    def investor_created(self, investor: Investor, creator: str) -> None:
        event = events_pb2.InvestorCreated(investor=full_view(investor), creator=creator)
        self._odoo(event, investor.name)

    def investor_updated(self, investor: Investor, changed: list[str]) -> None:
        event = events_pb2.InvestorUpdated(investor=full_view(investor), changed_fields=changed)
        self._odoo(event, investor.name)

    def investor_deleted(self, investor: Investor, deleter: str) -> None:
        self._odoo(events_pb2.InvestorDeleted(name=investor.name, deleter=deleter), investor.name)

    # MembershipEvents

    def member_added(self, member: Member, invitation: Invitation | None) -> None:
        event = events_pb2.MemberAdded(
            member=member_message(member), invitation=invitation_name(COLLECTION, invitation) if invitation else ""
        )
        self._odoo(event, member_name(COLLECTION, member))

    def member_updated(self, member: Member, previous_role: PageRole) -> None:
        event = events_pb2.MemberUpdated(member=member_message(member), previous_role=int(previous_role))  # type: ignore[arg-type]
        self._odoo(event, member_name(COLLECTION, member))

    def member_removed(self, member: Member, left: bool) -> None:
        reason = events_pb2.MEMBER_REMOVAL_REASON_LEFT if left else events_pb2.MEMBER_REMOVAL_REASON_REMOVED
        event = events_pb2.MemberRemoved(member=member_message(member), reason=reason)
        self._odoo(event, member_name(COLLECTION, member))

    def invitation_sent(self, invitation: Invitation, token: str, page_title: str, inviter: Member) -> None:
        name = invitation_name(COLLECTION, invitation)
        self._odoo(events_pb2.InvitationSent(invitation=invitation_message(invitation, page_title)), name)
        variables = invitation_mail_variables(invitation, name, token, page_title, inviter, self._accept_url)
        request_mail(self._outbox, invitation.email, INVITATION_TEMPLATE, variables, external_id=name)

    def invitation_changed(self, invitation: Invitation) -> None:
        event = events_pb2.InvitationChanged(
            invitation=invitation_message(invitation),
            previous_state=1,  # type: ignore[arg-type]  # only pending invitations change
        )
        self._odoo(event, invitation_name(COLLECTION, invitation))

    def _odoo(self, event: Message, external_id: str) -> None:
        add_direct(self._outbox, topology.ODOO_INVESTOR, event, external_id)

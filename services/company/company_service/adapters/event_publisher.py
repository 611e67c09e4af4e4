"""The company service's events, written to its outbox on the seed's exchanges.

Page, member and invitation events go to `odoo_company.exchange.direct`, mails to
`mail.exchange.direct` (direct exchanges route by their queue's name). Every method runs inside
the caller's unit of work, so an event exists if and only if the change that caused it committed.
The invitation token only ever travels in the invitation mail, never in an Odoo event.
"""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.message import Message

from company_service.adapters.proto_mapping import company_to_proto
from company_service.domain.model import Claim, Company
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2, events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter, add_direct, request_mail
from devinsider_common.pages.mail import invitation_mail_variables
from devinsider_common.pages.model import Invitation, InvitationState, Member
from devinsider_common.pages.proto_mapping import invitation_to_proto, member_to_proto
from devinsider_common.pages.roles import PageRole

COLLECTION = "companies"
TitleLookup = Callable[[str], str | None]


def _member(member: Member) -> company_pb2.Member:
    return member_to_proto(member, company_pb2.Member, COLLECTION)


class CompanyEventPublisher:
    def __init__(self, outbox: OutboxWriter, title: TitleLookup, accept_url: str, logo_url: Callable[[str], str]):
        self._outbox = outbox
        self._title = title
        self._accept_url = accept_url
        self._logo_url = logo_url

    def _company(self, company: Company) -> company_pb2.Company:
        return company_to_proto(company, full=True, logo_url=self._logo_url(company.id))

    # Pages
    def company_created(self, company: Company, creator: str) -> None:
        self._odoo(events_pb2.CompanyCreated(company=self._company(company), creator=creator), company.name)

    def company_updated(self, company: Company, changed: list[str]) -> None:
        event = events_pb2.CompanyUpdated(company=self._company(company), changed_fields=changed)
        self._odoo(event, company.name)

    def company_deleted(self, company: Company, deleter: str) -> None:
        self._odoo(events_pb2.CompanyDeleted(name=company.name, deleter=deleter), company.name)

    def claim_requested(self, company: Company, claim: Claim) -> None:
        event = events_pb2.CompanyClaimRequested(
            company=self._company(company),
            claimant=claim.user or claim.subject,
            claimant_email=claim.email,
            message=claim.message,
            evidence_url=claim.evidence_url,
        )
        self._odoo(event, company.name)

    def claim_decided(self, company: Company, claim: Claim, approved: bool, reason: str = "") -> None:
        template = "company_claim_approved" if approved else "company_claim_rejected"
        variables = {"page_display_name": company.content.display_name, "reason": reason}
        request_mail(self._outbox, claim.email, template, variables, to_name=claim.display_name)

    # Members and invitations (devinsider_common.pages.ports.MembershipEvents)
    def member_added(self, member: Member, invitation: Invitation | None) -> None:
        invitation_name = f"{COLLECTION}/{invitation.page_id}/invitations/{invitation.id}" if invitation else ""
        event = events_pb2.MemberAdded(member=_member(member), invitation=invitation_name)
        self._odoo(event, event.member.name)

    def member_updated(self, member: Member, previous_role: PageRole) -> None:
        event = events_pb2.MemberUpdated(member=_member(member), previous_role=int(previous_role))  # type: ignore[arg-type]
        self._odoo(event, event.member.name)

    def member_removed(self, member: Member, left: bool) -> None:
        reason = events_pb2.MEMBER_REMOVAL_REASON_LEFT if left else events_pb2.MEMBER_REMOVAL_REASON_REMOVED
        self._removed(member, reason)

    def member_removed_with_page(self, member: Member) -> None:
        self._removed(member, events_pb2.MEMBER_REMOVAL_REASON_PAGE_DELETED)

    def _removed(self, member: Member, reason: events_pb2.MemberRemovalReason.ValueType) -> None:
        event = events_pb2.MemberRemoved(member=_member(member), reason=reason)
        self._odoo(event, event.member.name)

    def invitation_sent(self, invitation: Invitation, token: str, page_title: str, inviter: Member) -> None:
        message = invitation_to_proto(invitation, company_pb2.Invitation, COLLECTION, page_title)
        self._odoo(events_pb2.InvitationSent(invitation=message), message.name)
        variables = invitation_mail_variables(invitation, message.name, token, page_title, inviter, self._accept_url)
        request_mail(self._outbox, invitation.email, "company_invitation", variables)

    def invitation_changed(self, invitation: Invitation) -> None:
        title = self._title(invitation.page_id) or ""
        message = invitation_to_proto(invitation, company_pb2.Invitation, COLLECTION, title)
        event = events_pb2.InvitationChanged(invitation=message, previous_state=page_pb2.INVITATION_STATE_PENDING)
        assert invitation.state is not InvitationState.PENDING
        self._odoo(event, message.name)

    def _odoo(self, event: Message, external_id: str) -> None:
        add_direct(self._outbox, topology.ODOO_COMPANY, event, external_id)

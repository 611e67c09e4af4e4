"""The program service's events, written to its outbox on the seed's exchanges.

Pages, members and invitations go to `odoo_program.exchange.direct`, applications (the program's
member companies) to `odoo_program_member.exchange.direct`, mails to `mail.exchange.direct`; direct
exchanges route by their queue's name. Every method runs inside the caller's unit of work, so an
event exists if and only if the change that caused it committed. The invitation's one-time token
travels only in the invitation mail, never in the Odoo event.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import Message

from devinsider.program.v1 import events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter, add_direct, request_mail
from devinsider_common.pages.mail import invitation_mail_variables
from devinsider_common.pages.model import Invitation, Member
from devinsider_common.pages.roles import PageRole
from program_service.adapters.proto_mapping import (
    APPLICATION_STATES,
    application_to_proto,
    invitation_to_proto,
    member_to_proto,
    program_to_proto,
)
from program_service.domain.application import Application, ApplicationState, Recipient
from program_service.domain.program import Program


class ProgramEventPublisher:
    """Program, application and (as the shared MembershipEvents port) member and invitation events."""

    def __init__(self, outbox: OutboxWriter, accept_url: str) -> None:
        self._outbox = outbox
        self._accept_url = accept_url

    # Programs.
    def program_created(self, program: Program, creator: str) -> None:
        event = events_pb2.ProgramCreated(program=program_to_proto(program), creator=creator)
        self._direct(topology.ODOO_PROGRAM, event, program.name)

    def program_updated(self, program: Program, changed: list[str]) -> None:
        event = events_pb2.ProgramUpdated(program=program_to_proto(program), changed_fields=changed)
        self._direct(topology.ODOO_PROGRAM, event, program.name)

    def program_deleted(self, program: Program, deleter: str) -> None:
        self._direct(topology.ODOO_PROGRAM, events_pb2.ProgramDeleted(name=program.name, deleter=deleter), program.name)

    # Members and invitations (devinsider_common.pages.ports.MembershipEvents).
    def member_added(self, member: Member, invitation: Invitation | None) -> None:
        proto = member_to_proto(member)
        event = events_pb2.MemberAdded(
            member=proto, invitation=invitation_to_proto(invitation).name if invitation else ""
        )
        self._direct(topology.ODOO_PROGRAM, event, proto.name)

    def member_updated(self, member: Member, previous_role: PageRole) -> None:
        proto = member_to_proto(member)
        event = events_pb2.MemberUpdated(member=proto, previous_role=int(previous_role))  # type: ignore[arg-type]
        self._direct(topology.ODOO_PROGRAM, event, proto.name)

    def member_removed(self, member: Member, left: bool) -> None:
        proto = member_to_proto(member)
        reason = events_pb2.MEMBER_REMOVAL_REASON_LEFT if left else events_pb2.MEMBER_REMOVAL_REASON_REMOVED
        self._direct(topology.ODOO_PROGRAM, events_pb2.MemberRemoved(member=proto, reason=reason), proto.name)

    def invitation_sent(self, invitation: Invitation, token: str, page_title: str, inviter: Member) -> None:
        proto = invitation_to_proto(invitation, page_title)
        self._direct(topology.ODOO_PROGRAM, events_pb2.InvitationSent(invitation=proto), proto.name)
        variables = invitation_mail_variables(invitation, proto.name, token, page_title, inviter, self._accept_url)
        self._mail([(invitation.email, "")], "program_invitation", variables, proto.name)

    def invitation_changed(self, invitation: Invitation) -> None:
        proto = invitation_to_proto(invitation)
        event = events_pb2.InvitationChanged(
            invitation=proto,
            previous_state=1,  # type: ignore[arg-type]  # always pending
        )
        self._direct(topology.ODOO_PROGRAM, event, proto.name)

    # Applications.
    def application_created(self, application: Application, program: Program, managers: Iterable[Recipient]) -> None:
        proto = application_to_proto(application, program.content.display_name)
        self._direct(topology.ODOO_PROGRAM_MEMBER, events_pb2.ApplicationCreated(application=proto), proto.name)
        self._mail(managers, "program_application_received", self._variables(application, program), proto.name)

    def application_updated(
        self,
        application: Application,
        previous: ApplicationState,
        program: Program,
        recipients: Iterable[Recipient],
    ) -> None:
        proto = application_to_proto(application, program.content.display_name)
        event = events_pb2.ApplicationUpdated(application=proto, previous_state=APPLICATION_STATES[previous])
        self._direct(topology.ODOO_PROGRAM_MEMBER, event, proto.name)
        template = f"program_application_{application.state.value}"
        self._mail(recipients, template, self._variables(application, program), proto.name)

    @staticmethod
    def _variables(application: Application, program: Program) -> dict[str, str]:
        return {
            "program_display_name": program.content.display_name,
            "company_display_name": application.company_display_name,
            "applicant_name": application.applicant_name,
            "application": application.name,
            "message": application.message,
            "rejection_reason": application.rejection_reason,
        }

    def _mail(self, recipients: Iterable[Recipient], template: str, variables: dict[str, str], about: str) -> None:
        for email, name in dict(recipients).items():
            request_mail(
                self._outbox, email, template, variables, to_name=name, external_id=f"mail:{template}:{about}:{email}"
            )

    def _direct(self, exchange: str, event: Message, external_id: str) -> None:
        add_direct(self._outbox, exchange, event, external_id)

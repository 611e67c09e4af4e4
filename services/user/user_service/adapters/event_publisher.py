"""The user service's events, written to its outbox on the seed's exchanges.

Every method runs inside the caller's unit of work, so an event exists if and only if the
change that caused it committed.
"""

from __future__ import annotations

from google.protobuf.message import Message

from devinsider.user.v1 import events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter, add_direct, request_mail
from user_service.adapters.proto_mapping import (
    blacklist_entry_to_proto,
    pro_verification_to_proto,
    support_request_to_proto,
    user_to_proto,
)
from user_service.domain.blacklist import BlacklistEntry
from user_service.domain.model import User
from user_service.domain.requests import ProVerification, SupportRequest


class UserEventPublisher:
    def __init__(self, outbox: OutboxWriter) -> None:
        self._outbox = outbox

    def user_created(self, user: User, welcome: bool = True) -> None:
        event = events_pb2.UserCreated(user=user_to_proto(user, private=True))
        self._outbox.add(topology.USER_UPDATES, topology.USER_CREATED, event, external_id=user.name)
        if welcome:
            self._mail(user.email, user.display_name, "welcome", {"given_name": user.profile.given_name})

    def user_updated(self, user: User, changed: list[str]) -> None:
        event = events_pb2.UserUpdated(user=user_to_proto(user, private=True), changed_fields=changed)
        self._outbox.add(topology.USER_UPDATES, topology.USER_UPDATED, event, external_id=user.name)

    def user_deleted(self, user: User) -> None:
        event = events_pb2.UserDeleted(name=user.name, subject=user.subject, email=user.email)
        self._outbox.add(topology.USER_UPDATES, topology.USER_DELETED, event, external_id=user.name)

    def pro_verification_changed(self, request: ProVerification, user: User) -> None:
        event = events_pb2.ProVerificationChanged(
            pro_verification=pro_verification_to_proto(request), user_email=user.email
        )
        self._direct(topology.ODOO_VERIFIED_PRO, event, external_id=request.name)
        if request.decided_at is not None:
            template = f"pro_verification_{request.state.value}"
            variables = {"company_name": request.company_name, "reason": request.rejection_reason}
            self._mail(user.email, user.display_name, template, variables)

    def support_request_created(self, request: SupportRequest, user: User) -> None:
        event = events_pb2.SupportRequestCreated(
            support_request=support_request_to_proto(request),
            user_email=user.email,
            user_display_name=user.display_name,
        )
        self._direct(topology.ODOO_CONTACT_SUPPORT, event, external_id=request.name)
        self._mail(user.email, user.display_name, "support_request_received", {"subject": request.subject})

    def blacklist_changed(self, entry: BlacklistEntry, removed: bool) -> None:
        event = events_pb2.BlacklistChanged(blacklist_entry=blacklist_entry_to_proto(entry), removed=removed)
        self._outbox.add(topology.USER_UPDATES, topology.BLACKLIST_CHANGED, event, external_id=entry.name)

    def _mail(self, to_email: str, to_name: str, template: str, variables: dict[str, str]) -> None:
        request_mail(self._outbox, to_email, template, variables, to_name=to_name)

    def _direct(self, exchange: str, event: Message, external_id: str) -> None:
        add_direct(self._outbox, exchange, event, external_id)

"""`ports.EventReader`: the events the notification service consumes, read as facts (`domain/facts.py`).

Each known payload type (the envelope's `Any`, else its event type) has one reader; every other event
on the bound exchanges reads as None (acknowledged without effect). A payload that cannot be read
(another type under a known name, a name of the wrong shape) is a ValueError: the consumer dead-letters
it. Projections hold as of the envelope's `occur_time`, written by the owning service with the change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from devinsider.billing.v1 import events_pb2 as billing
from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider.company.v1 import events_pb2 as company
from devinsider.contact.v1 import events_pb2 as contact
from devinsider.investor.v1 import events_pb2 as investor
from devinsider.matching.v1 import events_pb2 as matching
from devinsider.program.v1 import events_pb2 as program
from devinsider.user.v1 import events_pb2 as user
from devinsider_common import errors
from devinsider_common.outbox.envelope import unpack_payload
from devinsider_common.pages.names import PageName, parse_child, parse_id, parse_page
from devinsider_common.pages.ports import display_name
from devinsider_common.pages.roles import PageRole
from notification_service.domain import facts

Reader = Callable[[Any, datetime], facts.Fact | None]
_APPLICATION_STATES = {1: "pending", 2: "approved", 3: "rejected", 4: "withdrawn"}
_SUBSCRIPTION_STATES = {1: "trialing", 2: "active", 3: "past_due", 4: "canceled", 5: "expired"}


def _user_id(name: str) -> str:
    return parse_id(name, "users", "user") if name else ""


def _member(event: Any, at: datetime, removed: bool = False) -> facts.MemberChanged:
    member = event.member
    page, member_id = parse_child(member.name, "members", "member.name")
    role = None if removed else PageRole(member.role)
    return facts.MemberChanged(page, member_id, member.subject, role, member.email, member.display_name, at)


def _page_changed(field: str) -> Reader:
    def read(event: Any, at: datetime) -> facts.PageChanged:
        page = getattr(event, field)
        return facts.PageChanged(parse_page(page.name, f"{field}.name"), page.display_name, False, at)

    return read


def _page_deleted(event: Any, at: datetime) -> facts.PageChanged:
    return facts.PageChanged(parse_page(event.name, "name"), "", True, at)


def _invitation(event: Any, at: datetime) -> facts.InvitationSent:
    invitation = event.invitation
    page, _ = parse_child(invitation.name, "invitations", "invitation.name")
    role = PageRole(invitation.role)
    return facts.InvitationSent(invitation.name, page, invitation.page_display_name, invitation.email, role)


def _user(event: Any, at: datetime) -> facts.UserChanged:
    found = event.user
    name = display_name(found.given_name, found.family_name, found.email)
    return facts.UserChanged(_user_id(found.name), found.subject, found.email, name, False, at)


def _user_deleted(event: Any, at: datetime) -> facts.UserChanged:
    return facts.UserChanged(_user_id(event.name), event.subject, event.email, "", True, at)


def _application(event: Any, at: datetime) -> facts.ApplicationChanged:
    application = event.application
    programme, _ = parse_child(application.name, "applications", "application.name")
    return facts.ApplicationChanged(
        application.name,
        programme,
        parse_page(application.company, "application.company"),
        _APPLICATION_STATES.get(application.state, ""),
        application.program_display_name,
        application.company_display_name,
        application.rejection_reason,
    )


def _ref(ref: Any, path: str) -> PageName:
    return parse_page(ref.name, path)


def _unlock(event: Any, at: datetime) -> facts.UnlockCreated:
    return facts.UnlockCreated(
        event.unlock.name,
        _ref(event.unlocker, "unlocker.name"),
        _ref(event.unlock.target, "unlock.target.name"),
        int(event.balance),
    )


def _payment_failed(event: Any, at: datetime) -> facts.PaymentFailed:
    page = _ref(event.page, "page.name")
    return facts.PaymentFailed(page, event.checkout or event.subscription or page.name, event.failure_reason)


def _payment_succeeded(event: Any, at: datetime) -> facts.SubscriptionRenewed | None:
    if not event.subscription or event.checkout:  # a checkout's payment, not a renewal
        return None
    amount = f"{event.amount.amount_minor / 100:.2f} {event.amount.currency_code}"
    return facts.SubscriptionRenewed(_ref(event.page, "page.name"), event.subscription, event.invoice.name, amount)


def _subscription(event: Any, at: datetime) -> facts.SubscriptionChanged:
    found = event.subscription
    end = found.current_period_end_time.ToDatetime(UTC) if found.HasField("current_period_end_time") else None
    return facts.SubscriptionChanged(
        _ref(event.page, "page.name"),
        found.name,
        _SUBSCRIPTION_STATES.get(found.state, ""),
        _SUBSCRIPTION_STATES.get(event.previous_state, ""),
        found.cancel_at_period_end,
        end,
    )


def _match(event: Any, at: datetime) -> facts.MatchFound:
    return facts.MatchFound(
        parse_page(event.company, "company"),
        _ref(event.target, "target.name"),
        event.score,
        event.company_summary.display_name,
        event.target_summary.display_name,
    )


def _request_created(event: Any, at: datetime) -> facts.ContactRequestCreated:
    request = event.contact_request
    sender, _ = parse_child(request.name, "contactRequests", "contact_request.name")
    return facts.ContactRequestCreated(
        request.name,
        sender,
        request.sender_display_name,
        _ref(event.recipient, "recipient.name"),
        request.target_display_name,
        event.message_excerpt,
    )


def _request_decided(accepted: bool) -> Reader:
    def read(event: Any, at: datetime) -> facts.ContactRequestDecided:
        request = event.contact_request
        return facts.ContactRequestDecided(
            request.name,
            accepted,
            _ref(event.recipient, "recipient.name"),
            request.sender_display_name,
            request.target_display_name,
            getattr(event, "conversation", ""),
            request.decline_reason,
        )

    return read


def _request_withdrawn(event: Any, at: datetime) -> facts.ContactRequestWithdrawn:
    request = event.contact_request
    return facts.ContactRequestWithdrawn(
        request.name, request.sender_display_name, _ref(event.recipient, "recipient.name"), request.target_display_name
    )


def _message(event: Any, at: datetime) -> facts.ContactMessageCreated:
    contact_user = event.recipient_contact.user
    return facts.ContactMessageCreated(
        event.message.name,
        event.conversation.name,
        event.author_page_display_name,
        _ref(event.recipient, "recipient.name"),
        event.recipient_display_name,
        _user_id(contact_user) if contact_user.startswith("users/") else contact_user,
        event.message_excerpt,
    )


def _page_events(module: Any, field: str) -> list[tuple[type[Message], Reader]]:
    """The page, member and invitation events of one page service (`company`, `investor`, `program`)."""
    entity = field.capitalize()
    return [
        (module.MemberAdded, _member),
        (module.MemberUpdated, _member),
        (module.MemberRemoved, lambda event, at: _member(event, at, removed=True)),
        (module.InvitationSent, _invitation),
        (getattr(module, f"{entity}Created"), _page_changed(field)),
        (getattr(module, f"{entity}Updated"), _page_changed(field)),
        (getattr(module, f"{entity}Deleted"), _page_deleted),
    ]


_ALL: list[tuple[type[Message], Reader]] = [
    *_page_events(company, "company"),
    *_page_events(investor, "investor"),
    *_page_events(program, "program"),
    (program.ApplicationCreated, _application),
    (program.ApplicationUpdated, _application),
    (user.UserCreated, _user),
    (user.UserUpdated, _user),
    (user.UserDeleted, _user_deleted),
    (billing.UnlockCreated, _unlock),
    (billing.PaymentFailed, _payment_failed),
    (billing.PaymentSucceeded, _payment_succeeded),
    (billing.SubscriptionChanged, _subscription),
    (matching.MatchFound, _match),
    (contact.ContactRequestCreated, _request_created),
    (contact.ContactRequestAccepted, _request_decided(True)),
    (contact.ContactRequestDeclined, _request_decided(False)),
    (contact.ContactRequestWithdrawn, _request_withdrawn),
    (contact.ContactMessageCreated, _message),
]
READERS: dict[str, tuple[type[Message], Reader]] = {message.DESCRIPTOR.full_name: (message, r) for message, r in _ALL}


def read_event(envelope: EventEnvelope) -> facts.Fact | None:
    """The fact `envelope` reports; None for the events nothing here needs; ValueError when unreadable."""
    known = READERS.get(envelope.payload.TypeName()) or READERS.get(envelope.event_type)
    if known is None:
        return None
    message_class, reader = known
    event = unpack_payload(envelope, message_class)  # ValueError when the payload is another type
    at = envelope.occur_time.ToDatetime(UTC) if envelope.HasField("occur_time") else datetime.now(UTC)
    try:
        return reader(event, at)
    except (errors.InvalidArgument, ValueError) as error:  # a name of the wrong shape, an unknown role
        raise ValueError(f"{envelope.event_type} {envelope.event_id}: {error}") from error

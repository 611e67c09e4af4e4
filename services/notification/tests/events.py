"""The events the notification service consumes, built as their owners publish them (payloads only;
`envelope` wraps one as the outbox does). Pages are `companies/acme`-style names; users are ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from devinsider.billing.v1 import billing_pb2
from devinsider.billing.v1 import events_pb2 as billing
from devinsider.common.v1 import event_pb2, money_pb2, page_pb2
from devinsider.company.v1 import company_pb2
from devinsider.company.v1 import events_pb2 as company
from devinsider.contact.v1 import contact_pb2
from devinsider.contact.v1 import events_pb2 as contact
from devinsider.investor.v1 import events_pb2 as investor
from devinsider.investor.v1 import investor_pb2
from devinsider.matching.v1 import events_pb2 as matching
from devinsider.matching.v1 import matching_pb2
from devinsider.program.v1 import events_pb2 as program
from devinsider.program.v1 import program_pb2
from devinsider.user.v1 import events_pb2 as user
from devinsider.user.v1 import user_pb2
from devinsider_common.outbox.envelope import build_envelope
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.roles import PageRole

_MODULES: dict[str, tuple[Any, Any]] = {
    "companies": (company, company_pb2),
    "investors": (investor, investor_pb2),
    "programs": (program, program_pb2),
}


def ref(page: str) -> page_pb2.PageRef:
    kind = PageKind.of(page)
    assert kind is not None, page
    return page_pb2.PageRef(kind=int(kind), name=page)  # type: ignore[arg-type]


def envelope(event: Message, at: datetime | None = None, event_id: str | None = None) -> event_pb2.EventEnvelope:
    return build_envelope(event, source="test", external_id="", occur_time=at or datetime.now(UTC), event_id=event_id)


# -- pages and users ----------------------------------------------------------------------------------------
def member(page: str, user_id: str, role: PageRole = PageRole.OWNER, removed: bool = False, **fields: str) -> Message:
    events, messages = _MODULES[page.split("/")[0]]
    proto = messages.Member(
        name=f"{page}/members/{user_id}",
        user=f"users/{user_id}",
        subject=f"kc-{user_id}",
        display_name=fields.get("display_name", user_id.title()),
        email=fields.get("email", f"{user_id}@example.com"),
        role=int(role),
    )
    if removed:
        return events.MemberRemoved(member=proto, reason=1)  # type: ignore[no-any-return]
    return events.MemberAdded(member=proto)  # type: ignore[no-any-return]


def page_created(page: str, display_name: str) -> Message:
    collection = page.split("/")[0]
    events, messages = _MODULES[collection]
    entity = {"companies": "Company", "investors": "Investor", "programs": "Program"}[collection]
    field = entity.lower()
    body = getattr(messages, entity)(name=page, display_name=display_name)
    return getattr(events, f"{entity}Created")(**{field: body})  # type: ignore[no-any-return]


def invitation_sent(page: str, email: str, page_display_name: str = "Acme") -> Message:
    events, messages = _MODULES[page.split("/")[0]]
    proto = messages.Invitation(
        name=f"{page}/invitations/i-{email.split('@')[0]}",
        email=email,
        role=int(PageRole.EDITOR),
        page_display_name=page_display_name,
    )
    return events.InvitationSent(invitation=proto)  # type: ignore[no-any-return]


def user_created(user_id: str, email: str = "", given_name: str = "", deleted: bool = False) -> Message:
    if deleted:
        return user.UserDeleted(name=f"users/{user_id}", subject=f"kc-{user_id}", email=email)
    proto = user_pb2.User(
        name=f"users/{user_id}",
        subject=f"kc-{user_id}",
        email=email or f"{user_id}@example.com",
        given_name=given_name or user_id.title(),
        family_name="Tester",
    )
    return user.UserCreated(user=proto)


def application(program_page: str, company_page: str, state: int, reason: str = "") -> Message:
    proto = program_pb2.Application(
        name=f"{program_page}/applications/a1",
        company=company_page,
        state=state,  # type: ignore[arg-type]
        program_display_name="Cloud Partners",
        company_display_name="Acme",
        rejection_reason=reason,
    )
    if state == program_pb2.APPLICATION_STATE_PENDING:
        return program.ApplicationCreated(application=proto)
    return program.ApplicationUpdated(application=proto, previous_state=program_pb2.APPLICATION_STATE_PENDING)


# -- billing and matching ------------------------------------------------------------------------------------
def unlock(unlocker: str, target: str, unlock_id: str = "u1", balance: int = 5) -> Message:
    proto = billing_pb2.Unlock(name=f"{unlocker}/unlocks/{unlock_id}", target=ref(target), cost=1)
    return billing.UnlockCreated(unlocker=ref(unlocker), unlock=proto, balance=balance)


def payment_failed(page: str, subscription: str = "s1") -> Message:
    return billing.PaymentFailed(
        page=ref(page), subscription=f"{page}/subscriptions/{subscription}", failure_reason="card declined"
    )


def renewal(page: str, subscription: str = "s1", invoice: str = "inv1") -> Message:
    return billing.PaymentSucceeded(
        page=ref(page),
        invoice=billing_pb2.Invoice(name=f"{page}/invoices/{invoice}", number="DI-1"),
        subscription=f"{page}/subscriptions/{subscription}",
        amount=money_pb2.Money(currency_code="EUR", amount_minor=9900),
    )


def subscription_changed(page: str, state: int, previous: int, cancel_at_period_end: bool = False) -> Message:
    proto = billing_pb2.Subscription(
        name=f"{page}/subscriptions/s1",
        state=state,  # type: ignore[arg-type]
        cancel_at_period_end=cancel_at_period_end,
    )
    proto.current_period_end_time.FromDatetime(datetime(2026, 4, 30, tzinfo=UTC))
    return billing.SubscriptionChanged(page=ref(page), subscription=proto, previous_state=previous)  # type: ignore[arg-type]


def match_found(
    company_page: str, target: str, score: float = 88.4, names: tuple[str, str] = ("Acme", "Blue Fund")
) -> Message:
    return matching.MatchFound(
        company=company_page,
        target=ref(target),
        score=score,
        company_summary=matching_pb2.PageSummary(page=ref(company_page), display_name=names[0]),
        target_summary=matching_pb2.PageSummary(page=ref(target), display_name=names[1]),
    )


# -- contact --------------------------------------------------------------------------------------------------
def _request(sender: str, target: str, **fields: Any) -> contact_pb2.ContactRequest:
    return contact_pb2.ContactRequest(
        name=f"{sender}/contactRequests/r1",
        target=ref(target),
        sender=ref(sender),
        sender_display_name="Blue Fund",
        target_display_name="Acme",
        message="We would like to talk.",
        **fields,
    )


def contact_request(sender: str, target: str) -> Message:
    return contact.ContactRequestCreated(
        contact_request=_request(sender, target), recipient=ref(target), message_excerpt="We would like to talk."
    )


def contact_accepted(sender: str, target: str) -> Message:
    request = _request(sender, target, conversation="conversations/v1")
    return contact.ContactRequestAccepted(
        contact_request=request, recipient=ref(sender), conversation="conversations/v1"
    )


def contact_declined(sender: str, target: str, reason: str = "Not now") -> Message:
    return contact.ContactRequestDeclined(
        contact_request=_request(sender, target, decline_reason=reason), recipient=ref(sender)
    )


def contact_withdrawn(sender: str, target: str) -> Message:
    return contact.ContactRequestWithdrawn(contact_request=_request(sender, target), recipient=ref(target))


def contact_message(author: str, recipient: str, contact_user: str = "") -> Message:
    return contact.ContactMessageCreated(
        message=contact_pb2.ContactMessage(
            name="conversations/v1/messages/m1", text="Tuesday?", author_page=ref(author)
        ),
        conversation=contact_pb2.Conversation(name="conversations/v1"),
        recipient=ref(recipient),
        recipient_display_name="Acme",
        recipient_contact=contact_pb2.ContactPerson(user=f"users/{contact_user}" if contact_user else ""),
        author_page_display_name="Blue Fund",
        message_excerpt="Tuesday?",
    )

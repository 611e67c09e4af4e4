"""Drafts about contact between pages (the contact service's events): a request received, accepted or
declined, a message posted. Each event names the page to notify."""

from __future__ import annotations

from notification_service.domain import facts
from notification_service.domain.drafting import Context, Targeted
from notification_service.domain.notifications import Audience, Draft
from notification_service.domain.preferences import Category


def request_created(ctx: Context, event: facts.ContactRequestCreated) -> Targeted:
    sender, target = (
        ctx.title(event.sender, event.sender_display_name),
        ctx.title(event.target, event.target_display_name),
    )
    draft = Draft(
        key=f"contact.request_received:{event.request}",
        category=Category.CONTACT,
        kind="contact.request_received",
        title=f"{sender} wants to get in touch with {target}",
        body=event.excerpt,
        page=event.target.name,
        resource=event.request,
        params={"sender": event.sender.name, "sender_display_name": sender},
        mail=ctx.mail(
            "notification_contact_request_received",
            ctx.links.to(event.request),
            page_display_name=target,
            sender_display_name=sender,
            message_excerpt=event.excerpt,
        ),
    )
    return [(Audience.members(event.target), draft)]


def request_decided(ctx: Context, event: facts.ContactRequestDecided) -> Targeted:
    sender = ctx.title(event.sender, event.sender_display_name)
    target = event.target_display_name or "The page you contacted"
    params = {"target_display_name": target}
    if event.accepted:
        kind, title, body = (
            "contact.request_accepted",
            f"{target} accepted your contact request",
            "Your conversation is open.",
        )
        resource = event.conversation or event.request
        mail = ctx.mail(
            "notification_contact_request_accepted",
            ctx.links.to(resource),
            page_display_name=sender,
            target_display_name=target,
        )
    else:
        kind, title, resource = "contact.request_declined", f"{target} declined your contact request", event.request
        body = f"Reason: {event.reason}" if event.reason else "No reason was given."
        params["reason"] = event.reason
        mail = ctx.mail(
            "notification_contact_request_declined",
            ctx.links.to(event.request),
            page_display_name=sender,
            target_display_name=target,
            reason=event.reason,
        )
    draft = Draft(
        f"{kind}:{event.request}", Category.CONTACT, kind, title, body, event.sender.name, resource, params, mail
    )
    return [(Audience.members(event.sender), draft)]


def request_withdrawn(ctx: Context, event: facts.ContactRequestWithdrawn) -> Targeted:
    """The addressed page's members learn that a pending request is gone (in-app only)."""
    sender = event.sender_display_name or "A page"
    draft = Draft(
        key=f"contact.request_withdrawn:{event.request}",
        category=Category.CONTACT,
        kind="contact.request_withdrawn",
        title=f"{sender} withdrew its contact request",
        body="Nothing is left to answer.",
        page=event.target.name,
        resource=event.request,
        params={"sender_display_name": sender},
    )
    return [(Audience.members(event.target), draft)]


def message_created(ctx: Context, event: facts.ContactMessageCreated) -> Targeted:
    """Every member of the other page sees it; the mail goes to the page's contact person in the
    conversation when it has one (the one the other side writes to), else to every member."""
    author = event.author_page_display_name or "The other page"
    page = ctx.title(event.recipient, event.recipient_display_name)
    only = frozenset({event.recipient_contact}) if event.recipient_contact else None
    draft = Draft(
        key=f"contact.message_received:{event.message}",
        category=Category.CONTACT,
        kind="contact.message_received",
        title=f"New message from {author}",
        body=event.excerpt,
        page=event.recipient.name,
        resource=event.conversation,
        params={"author_page_display_name": author, "message": event.message},
        mail=ctx.mail(
            "notification_contact_message_received",
            ctx.links.to(event.conversation),
            only,
            page_display_name=page,
            author_page_display_name=author,
            message_excerpt=event.excerpt,
        ),
    )
    return [(Audience.members(event.recipient), draft)]

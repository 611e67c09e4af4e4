"""Delivering a draft to its audience, in the caller's unit of work: once per recipient and draft key
(the delivery log), shown in the app and mailed as each recipient's preferences say, or kept for the
recipient's match digest."""

from __future__ import annotations

from datetime import datetime

from devinsider_common.ids import new_id
from notification_service.domain.digest import DigestItem
from notification_service.domain.notifications import Audience, Draft, Notification, Recipient
from notification_service.domain.preferences import Preferences
from notification_service.service_layer.ports import NotificationUnitOfWork


def recipients(uow: NotificationUnitOfWork, audience: Audience) -> list[Recipient]:
    """The users `audience` names, each with the address to mail (the user service's newest, else the
    one the page service recorded with the membership)."""
    if audience.user:
        return [Recipient(audience.user, *address_of(uow, audience.user))]
    if audience.page is None:
        return []
    found = []
    for member in uow.memberships.members_of(audience.page.name, audience.roles):
        known = uow.users.get(member.member)
        email = (known.email if known else "") or member.email
        name = (known.display_name if known else "") or member.display_name
        found.append(Recipient(member.member, email, name))
    return found


def address_of(uow: NotificationUnitOfWork, user: str) -> tuple[str, str]:
    """(e-mail, display name) of a user: the user service's, else those a page service recorded."""
    known = uow.users.get(user)
    if known is not None and known.email:
        return known.email, known.display_name
    for member in uow.memberships.of_member(user):
        if member.email:
            return member.email, member.display_name
    return "", known.display_name if known is not None else ""


def deliver(uow: NotificationUnitOfWork, audience: Audience, draft: Draft, now: datetime) -> int:
    """Deliver `draft` to each recipient of `audience` not given it yet; how many were given it."""
    given = 0
    for recipient in recipients(uow, audience):
        if not uow.deliveries.first_time(recipient.user, draft.key, now):
            continue
        given += 1
        preferences = uow.preferences.get(recipient.user) or Preferences(recipient.user)
        channel = preferences.channel(draft.category)
        if channel.in_app:
            uow.notifications.add(_notification(recipient.user, draft, now))
        mail = draft.mail
        if mail is not None and channel.mail and recipient.email and (mail.only is None or recipient.user in mail.only):
            uow.mail.send(
                mail.template,
                recipient.email,
                recipient.display_name,
                preferences.locale,
                mail.variables,
                external_id=f"mail:{mail.template}:{recipient.user}:{draft.key}",
            )
        if draft.digest is not None and preferences.digest_on:
            entry = draft.digest
            uow.digests.add(
                DigestItem(
                    recipient.user,
                    draft.key,
                    draft.page,
                    entry.page_display_name,
                    entry.match,
                    entry.match_display_name,
                    entry.score,
                    now,
                )
            )
    return given


def _notification(recipient: str, draft: Draft, now: datetime) -> Notification:
    return Notification(
        id=new_id(),
        recipient=recipient,
        category=draft.category,
        kind=draft.kind,
        title=draft.title,
        body=draft.body,
        page=draft.page,
        resource=draft.resource,
        params=dict(draft.params),
        created_at=now,
    )

"""What each fact changes, in the unit of work of the event that reported it: the projections (members,
users, page titles), the erasure of a deleted account, and the notifications of everything else."""

from __future__ import annotations

from datetime import datetime

import structlog

from notification_service.domain import billing, contact, facts, matches, pages
from notification_service.domain.drafting import Context, Links, Targeted
from notification_service.service_layer.common import NotificationConfig
from notification_service.service_layer.notify import deliver
from notification_service.service_layer.ports import NotificationUnitOfWork

log = structlog.get_logger("notification.reactions")


class Reactions:
    def __init__(self, config: NotificationConfig) -> None:
        self._config = config
        self._links = Links(config.app_url)

    def apply(self, uow: NotificationUnitOfWork, fact: facts.Fact, now: datetime) -> int:
        """Apply `fact`; how many recipients were notified."""
        if isinstance(fact, facts.MemberChanged):
            uow.memberships.apply(fact)
            return 0
        if isinstance(fact, facts.PageChanged):
            uow.pages.apply(fact)
            return 0
        if isinstance(fact, facts.UserChanged):
            if fact.deleted:
                erase(uow, {fact.user, fact.subject} - {""})
            else:
                uow.users.apply(fact)
            return 0
        targeted = self._drafts(uow, fact)
        return sum(deliver(uow, audience, draft, now) for audience, draft in targeted)

    def _drafts(self, uow: NotificationUnitOfWork, fact: facts.NotifiedFact) -> Targeted:
        ctx = Context(self._links, lambda page: uow.pages.title(page.name), self._config.credits_low_threshold)
        match fact:
            case facts.InvitationSent():
                invitee = uow.users.find_by_email(fact.email)
                return pages.invitation(ctx, fact, invitee.user) if invitee is not None else []
            case facts.UnlockCreated():
                return pages.unlock(ctx, fact)
            case facts.ApplicationChanged():
                return pages.application(ctx, fact)
            case facts.PaymentFailed():
                return billing.payment_failed(ctx, fact)
            case facts.SubscriptionRenewed():
                return billing.renewed(ctx, fact)
            case facts.SubscriptionChanged():
                return billing.subscription_changed(ctx, fact)
            case facts.MatchFound():
                return matches.match_found(ctx, fact)
            case facts.ContactRequestCreated():
                return contact.request_created(ctx, fact)
            case facts.ContactRequestDecided():
                return contact.request_decided(ctx, fact)
            case facts.ContactRequestWithdrawn():
                return contact.request_withdrawn(ctx, fact)
            case facts.ContactMessageCreated():
                return contact.message_created(ctx, fact)
        return []  # pragma: no cover - every fact is matched above


def erase(uow: NotificationUnitOfWork, ids: set[str]) -> None:
    """A deleted account: its notifications, deliveries, digest, preferences, memberships and address go."""
    counts = {"memberships": uow.memberships.forget(ids), "users": uow.users.forget(ids)}
    for user in sorted(ids):
        counts["notifications"] = counts.get("notifications", 0) + uow.notifications.forget(user)
        uow.deliveries.forget(user)
        uow.digests.forget(user)
        uow.preferences.forget(user)
    log.info("account.erased", **counts)

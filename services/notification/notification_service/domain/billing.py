"""Drafts about billing, for the page's owners and admins: a refused payment, a renewal (both mailed
by billing already, so in-app only), a subscription that will not renew or has ended (mailed)."""

from __future__ import annotations

from notification_service.domain import facts
from notification_service.domain.drafting import Context, Targeted
from notification_service.domain.notifications import MANAGERS, Audience, Draft
from notification_service.domain.preferences import Category

LIVE = ("trialing", "active", "past_due")
ENDED = ("canceled", "expired")


def payment_failed(ctx: Context, event: facts.PaymentFailed) -> Targeted:
    page = ctx.title(event.page)
    reason = f" ({event.reason})" if event.reason else ""
    draft = Draft(
        key=f"billing.payment_failed:{event.about}",
        category=Category.BILLING,
        kind="billing.payment_failed",
        title=f"A payment of {page} was refused",
        body=f"The payment was refused{reason}. Check the payment method in the page's billing settings.",
        page=event.page.name,
        resource=event.about,
        params={"reason": event.reason},
    )
    return [(Audience.members(event.page, MANAGERS), draft)]


def renewed(ctx: Context, event: facts.SubscriptionRenewed) -> Targeted:
    page = ctx.title(event.page)
    draft = Draft(
        key=f"billing.subscription_renewed:{event.invoice}",
        category=Category.BILLING,
        kind="billing.subscription_renewed",
        title=f"The subscription of {page} was renewed",
        body=f"{event.amount} was paid for a new period; the receipt was mailed to the billing contact.",
        page=event.page.name,
        resource=event.subscription,
        params={"amount": event.amount, "invoice": event.invoice},
    )
    return [(Audience.members(event.page, MANAGERS), draft)]


def subscription_changed(ctx: Context, event: facts.SubscriptionChanged) -> Targeted:
    """Ended (canceled or expired), or set to end with its period (canceled at period end)."""
    page = ctx.title(event.page)
    link = ctx.links.to(f"{event.page.name}/billing")
    if event.state in ENDED and event.previous not in ENDED:
        draft = Draft(
            key=f"billing.subscription_ended:{event.subscription}",
            category=Category.BILLING,
            kind="billing.subscription_ended",
            title=f"The subscription of {page} has ended",
            body="The page is on the free tier now.",
            page=event.page.name,
            resource=event.subscription,
            mail=ctx.mail("notification_subscription_ended", link, page_display_name=page),
        )
    elif event.state in LIVE and event.cancel_at_period_end and event.period_end is not None:
        end_date = event.period_end.date().isoformat()
        draft = Draft(
            key=f"billing.subscription_ending:{event.subscription}:{end_date}",
            category=Category.BILLING,
            kind="billing.subscription_ending",
            title=f"The subscription of {page} ends on {end_date}",
            body="It will not renew; until then nothing changes.",
            page=event.page.name,
            resource=event.subscription,
            params={"end_date": end_date},
            mail=ctx.mail("notification_subscription_ending", link, page_display_name=page, end_date=end_date),
        )
    else:
        return []
    return [(Audience.members(event.page, MANAGERS), draft)]

"""Moving a subscription to another plan: which changes are allowed, when they take effect, what they cost.

- An upgrade (a higher price, the same billing interval) takes effect at once. The price difference is
  prorated over what is left of the current period, to the second, rounded half up to the minor unit
  (taxes are added on that amount, as on every invoice); nothing is charged during a trial (nothing was
  paid for it). The new plan's extra credits of the period (`credits` of the new plan minus the current
  one's, when positive) are granted at once.
- Any other change (a lower or equal price, another interval) is scheduled for the end of the period: no
  refund, no charge, no credits now; the renewal that starts the next period starts it on the new plan.
  Asking for the current plan drops a scheduled change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from billing_service.domain.money import CurrencyMismatch, Money
from billing_service.domain.plans import Plan
from billing_service.domain.subscriptions import Subscription, SubscriptionState
from devinsider_common import errors
from devinsider_common.pages.names import PageName

_MICROSECOND = timedelta(microseconds=1)


class ChangeKind(enum.Enum):
    UPGRADE = "upgrade"  # now, prorated
    SCHEDULED = "scheduled"  # at the end of the period
    UNSCHEDULED = "unscheduled"  # back to the current plan: the scheduled change is dropped


@dataclass(frozen=True)
class PlanChangeDecision:
    kind: ChangeKind
    target: Plan
    charge: Money  # the prorated difference, taxes excluded (0 unless an upgrade of a paid period)
    extra_credits: int  # granted now (upgrades only)
    effective_time: datetime


@dataclass(frozen=True)
class PlanChange:
    """A change asked for (kept for idempotent retries by `request_id`, and as the subscription's history)."""

    id: str
    page: PageName
    subscription_id: str
    from_plan_id: str
    to_plan_id: str
    kind: ChangeKind
    effective_time: datetime
    creator: str
    created_at: datetime
    invoice_id: str = ""
    request_id: str | None = None


def prorate(difference: Money, period_start: datetime, period_end: datetime, now: datetime) -> Money:
    """`difference` x (time left in the period / period length), in microseconds, rounded half up."""
    length = (period_end - period_start) // _MICROSECOND
    left = min(max((period_end - now) // _MICROSECOND, 0), length)
    if length <= 0:
        return Money(difference.currency, 0)
    return Money(difference.currency, (difference.amount_minor * left * 2 + length) // (2 * length))


def decide(
    subscription: Subscription, current: Plan, target: Plan | None, target_id: str, now: datetime
) -> PlanChangeDecision:
    """What moving `subscription` (on `current`) to `target` does at `now`, or why it is refused."""
    subscription.require_changeable()
    if target is None or not target.active:
        raise errors.InvalidArgument.for_field("plan", f"plans/{target_id} is not on sale")
    if not target.is_subscription:
        raise errors.InvalidArgument.for_field("plan", f"{target.name} is a credit pack, not a subscription")
    if target.page_kind is not subscription.page.kind:
        raise errors.InvalidArgument.for_field(
            "plan", f"{target.name} is not sold to {subscription.page.kind.label} pages"
        )
    if target.price.currency != subscription.price.currency:
        raise CurrencyMismatch(
            f"{target.name} is priced in {target.price.currency}, the subscription in {subscription.price.currency}",
            reason="CURRENCY_MISMATCH",
        )
    nothing = Money(subscription.price.currency, 0)
    end = subscription.current_period_end
    if target.id == subscription.plan_id:
        if not subscription.scheduled_plan_id:
            raise errors.FailedPrecondition(f"the subscription is on {target.name} already", reason="SAME_PLAN")
        return PlanChangeDecision(ChangeKind.UNSCHEDULED, target, nothing, 0, now)
    more = target.price.amount_minor - subscription.price.amount_minor
    if more <= 0 or target.interval is not current.interval:
        return PlanChangeDecision(ChangeKind.SCHEDULED, target, nothing, 0, end)
    if subscription.state is SubscriptionState.TRIALING:
        charge = nothing  # nothing was paid for the trial
    else:
        charge = prorate(Money(nothing.currency, more), subscription.current_period_start, end, now)
    return PlanChangeDecision(ChangeKind.UPGRADE, target, charge, max(0, target.credits - current.credits), now)

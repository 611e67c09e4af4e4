"""A page's subscription: trialing -> active -> past_due -> canceled | expired.

Every transition is a method returning the changed subscription or raising FailedPrecondition;
CANCELED and EXPIRED are final. A past-due subscription whose payment succeeds is active again.
A trialing or active one may change plan: at once (`upgraded`) or at the end of its period
(`scheduled`, applied by the renewal that starts the next period: `renewed`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from billing_service.domain.money import Money
from devinsider_common import errors
from devinsider_common.pages.names import PageName


class SubscriptionState(enum.IntEnum):
    TRIALING = 1
    ACTIVE = 2
    PAST_DUE = 3
    CANCELED = 4
    EXPIRED = 5

    @property
    def live(self) -> bool:
        return self in LIVE_STATES


LIVE_STATES = frozenset({SubscriptionState.TRIALING, SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE})


@dataclass(frozen=True)
class Subscription:
    id: str
    page: PageName
    plan_id: str
    state: SubscriptionState
    price: Money
    current_period_start: datetime
    current_period_end: datetime
    created_at: datetime
    updated_at: datetime
    provider_reference: str = ""
    contact_email: str = ""
    trial_end: datetime | None = None
    cancel_at_period_end: bool = False
    cancel_time: datetime | None = None
    end_time: datetime | None = None
    cancel_reason: str = ""
    scheduled_plan_id: str = ""  # the plan it moves to at the end of the current period

    @property
    def name(self) -> str:
        return f"{self.page.name}/subscriptions/{self.id}"

    def _require(self, allowed: frozenset[SubscriptionState] | set[SubscriptionState], action: str) -> None:
        if self.state not in allowed:
            raise errors.FailedPrecondition(
                f"a {self.state.name.lower()} subscription cannot be {action}", reason="SUBSCRIPTION_STATE"
            )

    def renewed(
        self, period_start: datetime, period_end: datetime, now: datetime, price: Money | None = None
    ) -> Subscription:
        """A payment for a period succeeded: active for that period (from trialing, active, past-due). A
        period after the current one starts on the scheduled plan, if any, at its `price`."""
        self._require(LIVE_STATES, "renewed")
        if period_end <= period_start:
            raise errors.InvalidArgument.for_field("period_end", "must be after the period start")
        switch = self.switches_at(period_start)
        return replace(
            self,
            state=SubscriptionState.ACTIVE,
            current_period_start=period_start,
            current_period_end=period_end,
            plan_id=self.scheduled_plan_id if switch else self.plan_id,
            price=price if switch and price is not None else self.price,
            scheduled_plan_id="" if switch else self.scheduled_plan_id,
            updated_at=now,
        )

    def switches_at(self, period_start: datetime) -> bool:
        """Whether a period starting at `period_start` starts on the scheduled plan."""
        return bool(self.scheduled_plan_id) and period_start >= self.current_period_end

    def require_changeable(self) -> None:
        """A plan change needs a trialing or active subscription that does not end with its period."""
        self._require({SubscriptionState.TRIALING, SubscriptionState.ACTIVE}, "moved to another plan")
        if self.cancel_at_period_end:
            raise errors.FailedPrecondition(
                "the subscription ends with its period: it cannot change plan", reason="ALREADY_CANCELING"
            )

    def upgraded(self, plan_id: str, price: Money, now: datetime) -> Subscription:
        """On another plan from now on, at its price (a scheduled change is dropped)."""
        self.require_changeable()
        return replace(self, plan_id=plan_id, price=price, scheduled_plan_id="", updated_at=now)

    def scheduled(self, plan_id: str, now: datetime) -> Subscription:
        """Moves to `plan_id` when the current period ends; its own plan drops a scheduled change."""
        self.require_changeable()
        return replace(self, scheduled_plan_id="" if plan_id == self.plan_id else plan_id, updated_at=now)

    def payment_failed(self, now: datetime) -> Subscription:
        """The renewal payment was refused: past due until paid or the grace period ends."""
        self._require({SubscriptionState.TRIALING, SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE}, "past due")
        return replace(self, state=SubscriptionState.PAST_DUE, updated_at=now)

    def canceled(self, now: datetime, immediately: bool, reason: str = "") -> Subscription:
        """Ends now (CANCELED), or at the end of the period (stays live, `cancel_at_period_end`)."""
        self._require(LIVE_STATES, "canceled")
        if immediately:
            return replace(
                self,
                state=SubscriptionState.CANCELED,
                cancel_time=now,
                end_time=now,
                cancel_at_period_end=False,
                cancel_reason=reason,
                updated_at=now,
            )
        if self.cancel_at_period_end:
            raise errors.FailedPrecondition("the subscription already ends with its period", reason="ALREADY_CANCELING")
        return replace(self, cancel_at_period_end=True, cancel_time=now, cancel_reason=reason, updated_at=now)

    def expired(self, now: datetime) -> Subscription:
        self._require(LIVE_STATES, "expired")
        return replace(self, state=SubscriptionState.EXPIRED, end_time=now, updated_at=now)

    def period_end_due(self, now: datetime, grace: timedelta) -> Subscription | None:
        """What the period-end job does to this subscription at `now` (None: nothing yet)."""
        if not self.state.live or now < self.current_period_end:
            return None
        if self.cancel_at_period_end:
            return self.expired(now)
        if self.state is SubscriptionState.PAST_DUE:
            return self.expired(now) if now >= self.current_period_end + grace else None
        # The period ended without the provider confirming a renewal: past due until it does.
        return self.payment_failed(now)


def subscription_position(subscription: Subscription) -> tuple[int, str]:
    """The keyset position of a page's subscription: live ones first (rank 0), then newest first
    (the id, descending within a rank)."""
    return (0 if subscription.state.live else 1, subscription.id)

"""The plans catalogue: subscriptions (monthly or yearly, granting credits each period and entitling
their page to the plan's limits) and credit packs."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from billing_service.domain.entitlements import Entitlements
from billing_service.domain.money import Money
from devinsider_common.pages.names import PageKind


class PlanKind(enum.IntEnum):
    SUBSCRIPTION = 1
    CREDIT_PACK = 2


class Interval(enum.IntEnum):
    NONE = 0
    MONTH = 1
    YEAR = 2


MONTHS = {Interval.MONTH: 1, Interval.YEAR: 12}


@dataclass(frozen=True)
class Plan:
    id: str
    display_name: str
    description: str
    page_kind: PageKind
    kind: PlanKind
    interval: Interval
    price: Money
    credits: int
    trial_days: int = 0
    features: tuple[str, ...] = field(default_factory=tuple)
    active: bool = True
    # What a subscription entitles its page to (ignored on credit packs); counts of 0: no limit.
    match_results_visible: int = 0
    directory_filters: bool = False
    contact_requests_per_month: int = 0
    seats: int = 0

    @property
    def name(self) -> str:
        return f"plans/{self.id}"

    @property
    def is_subscription(self) -> bool:
        return self.kind is PlanKind.SUBSCRIPTION

    @property
    def entitlements(self) -> Entitlements | None:
        """What a subscription to the plan entitles to; None for credit packs. `credits` is what each period
        grants, so the monthly credits are its share of a month (a yearly plan's twelfth, rounded down)."""
        if not self.is_subscription:
            return None
        return Entitlements(
            monthly_credits=self.credits // MONTHS.get(self.interval, 1),
            match_results_visible=self.match_results_visible,
            directory_filters=self.directory_filters,
            contact_requests_per_month=self.contact_requests_per_month,
            seats=self.seats,
        )


def plan_position(plan: Plan) -> tuple[int, str]:
    """The keyset position of a plan in the catalogue: cheapest first, then by id."""
    return (plan.price.amount_minor, plan.id)


def add_interval(start: datetime, interval: Interval, count: int = 1) -> datetime:
    """`start` moved by whole months or years, the day clamped to the target month's length."""
    if interval is Interval.NONE:
        raise ValueError("credit packs have no billing interval")
    months = count * MONTHS[interval]
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def trial_end(start: datetime, plan: Plan) -> datetime | None:
    return start + timedelta(days=plan.trial_days) if plan.trial_days > 0 else None

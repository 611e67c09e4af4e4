"""The plans catalogue: subscriptions (monthly or yearly, granting credits each period) and credit packs."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from billing_service.domain.money import Money
from devinsider_common.pages.names import PageKind


class PlanKind(enum.IntEnum):
    SUBSCRIPTION = 1
    CREDIT_PACK = 2


class Interval(enum.IntEnum):
    NONE = 0
    MONTH = 1
    YEAR = 2


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

    @property
    def name(self) -> str:
        return f"plans/{self.id}"

    @property
    def is_subscription(self) -> bool:
        return self.kind is PlanKind.SUBSCRIPTION


def plan_position(plan: Plan) -> tuple[int, str]:
    """The keyset position of a plan in the catalogue: cheapest first, then by id."""
    return (plan.price.amount_minor, plan.id)


def add_interval(start: datetime, interval: Interval, count: int = 1) -> datetime:
    """`start` moved by whole months or years, the day clamped to the target month's length."""
    months = count * (12 if interval is Interval.YEAR else 1)
    if interval is Interval.NONE:
        raise ValueError("credit packs have no billing interval")
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def trial_end(start: datetime, plan: Plan) -> datetime | None:
    return start + timedelta(days=plan.trial_days) if plan.trial_days > 0 else None

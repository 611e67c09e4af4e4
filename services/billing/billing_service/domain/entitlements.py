"""What a page is entitled to: its live subscription's plan, or the free tier.

Counts of 0 mean no limit, except `monthly_credits`. Billing states the entitlements; the service owning
each feature enforces it (matching caps match lists; page services seats and directory filters; the
contact service contact requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from devinsider_common.pages.names import PageName

if TYPE_CHECKING:  # plans build Entitlements: importing them here at run time would be a cycle
    from billing_service.domain.plans import Plan
    from billing_service.domain.subscriptions import Subscription


@dataclass(frozen=True)
class Entitlements:
    monthly_credits: int = 0
    match_results_visible: int = 0  # 0: every match
    directory_filters: bool = False
    contact_requests_per_month: int = 0  # 0: no limit
    seats: int = 0  # 0: no limit


@dataclass(frozen=True)
class PageEntitlements:
    """The effective entitlements of a page and where they come from (no plan: the free tier)."""

    page: PageName
    entitlements: Entitlements
    plan_id: str = ""
    subscription_id: str = ""
    period_end: datetime | None = None
    scheduled_plan_id: str = ""

    @property
    def name(self) -> str:
        return f"{self.page.name}/entitlements"

    @property
    def free_tier(self) -> bool:
        return not self.plan_id


def effective(page: PageName, live: Subscription | None, plan: Plan | None, free: Entitlements) -> PageEntitlements:
    """The page's entitlements: its live subscription's plan, else the free tier. A live subscription whose
    plan is missing from the catalogue (never deleted, but a broken row must not grant more) reads as free."""
    if live is None or plan is None or not live.state.live:
        return PageEntitlements(page, free)
    return PageEntitlements(
        page,
        plan.entitlements or free,
        plan_id=plan.id,
        subscription_id=live.id,
        period_end=live.current_period_end,
        scheduled_plan_id=live.scheduled_plan_id,
    )

"""What a page is entitled to (GetEntitlements), and EntitlementsChanged when that changes.

One rule decides both: a live subscription's plan, else the free tier (`domain.entitlements.effective`).
Every use case that changes a subscription calls `announce` in its transaction, so the event commits with
the change; a change that keeps the page's plan (trialing -> active -> past due, a scheduled change)
announces nothing.
"""

from __future__ import annotations

from billing_service.domain.entitlements import Entitlements, PageEntitlements, effective
from billing_service.domain.subscriptions import LIVE_STATES, Subscription
from billing_service.service_layer.common import UowFactory
from billing_service.service_layer.ports import BillingUnitOfWork
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.authorization import PageAuthorizer
from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pagination import ListWindow


def _plan_of(subscription: Subscription | None) -> str:
    """The plan a subscription entitles its page to: none once it ended."""
    return subscription.plan_id if subscription is not None and subscription.state.live else ""


class Entitlement:
    """The free tier and the rule, shared by the reads and by the use cases announcing changes."""

    def __init__(self, free_tier: Entitlements) -> None:
        self.free_tier = free_tier

    def of(self, uow: BillingUnitOfWork, page: PageName) -> PageEntitlements:
        live = uow.subscriptions.list_after(page, ListWindow(size=1), list(LIVE_STATES))
        subscription = live[0] if live else None
        plan = uow.plans.get(subscription.plan_id) if subscription is not None else None
        return effective(page, subscription, plan, self.free_tier)

    def announce(self, uow: BillingUnitOfWork, before: Subscription | None, after: Subscription) -> None:
        """EntitlementsChanged when `after` moves its page to another plan, or to or from the free tier."""
        previous, current = _plan_of(before), _plan_of(after)
        if previous == current:
            return
        plan = uow.plans.get(current) if current else None
        uow.events.entitlements_changed(
            effective(after.page, after if current else None, plan, self.free_tier), previous
        )


class EntitlementUseCases:
    def __init__(self, uow: UowFactory, authorizer: PageAuthorizer, entitlement: Entitlement) -> None:
        self._uow = uow
        self._auth = authorizer
        self._entitlement = entitlement

    def get(self, principal: Principal, page: PageName) -> PageEntitlements:
        """Members of the page (VIEW_PRIVATE), platform staff and services (matching asks for its caps)."""
        self._auth.require(principal, page, PagePermission.VIEW_PRIVATE)
        with self._uow(read_only=True) as uow:
            return self._entitlement.of(uow, page)

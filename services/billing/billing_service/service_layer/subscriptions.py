"""Use cases on subscriptions: reading, canceling, and the period-end job."""

from __future__ import annotations

from datetime import timedelta

from billing_service.domain.subscriptions import Subscription, SubscriptionState, subscription_position
from billing_service.service_layer.common import Clock, UowFactory
from billing_service.service_layer.entitlements import Entitlement
from billing_service.service_layer.ports import PaymentProvider
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.authorization import PageAuthorizer
from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pagination import ListLimits, finish_window, list_window

MAX_REASON = 1000


class SubscriptionUseCases:
    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        authorizer: PageAuthorizer,
        provider: PaymentProvider,
        limits: ListLimits,
        grace: timedelta,
        entitlement: Entitlement,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._auth = authorizer
        self._provider = provider
        self._limits = limits
        self._grace = grace
        self._entitlement = entitlement

    def get(self, principal: Principal, page: PageName, subscription_id: str) -> Subscription:
        self._auth.require(principal, page, PagePermission.VIEW_PRIVATE)
        with self._uow(read_only=True) as uow:
            subscription = uow.subscriptions.get(page, subscription_id)
        if subscription is None:
            raise errors.NotFound(f"{page.name}/subscriptions/{subscription_id} does not exist")
        return subscription

    def list_subscriptions(
        self, principal: Principal, page: PageName, page_size: int, page_token: str, states: list[SubscriptionState]
    ) -> tuple[list[Subscription], str]:
        self._auth.require(principal, page, PagePermission.VIEW_PRIVATE)
        filters = {"parent": page.name, "states": sorted(int(s) for s in states)}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            found = uow.subscriptions.list_after(page, window, states)
        return finish_window(window, found, subscription_position)

    def cancel(
        self, principal: Principal, page: PageName, subscription_id: str, immediately: bool, reason: str
    ) -> Subscription:
        self._auth.require(principal, page, PagePermission.MANAGE_BILLING)
        if len(reason) > MAX_REASON:
            raise errors.InvalidArgument.for_field("reason", f"must be at most {MAX_REASON} characters")
        current = self.get(principal, page, subscription_id)
        current.canceled(self._clock(), immediately, reason)  # refuse final states before telling the provider
        if current.provider_reference:
            self._provider.cancel_subscription(current.provider_reference, at_period_end=not immediately)
        with self._uow() as uow:
            locked = uow.subscriptions.get(page, subscription_id, lock=True)
            if locked is None:
                raise errors.NotFound(f"{page.name}/subscriptions/{subscription_id} does not exist")
            if immediately and locked.state is SubscriptionState.CANCELED:
                return locked  # the provider's own cancellation event got here first
            changed = locked.canceled(self._clock(), immediately, reason)
            uow.subscriptions.save(changed)
            uow.events.subscription_changed(changed, locked.state)
            self._entitlement.announce(uow, locked, changed)
            uow.commit()
        return changed

    def end_due_periods(self) -> int:
        """The job: past-due, expired or ended-by-cancellation subscriptions whose period is over."""
        now = self._clock()
        with self._uow(read_only=True) as uow:
            due = uow.subscriptions.due_ids(now)
        handled = 0
        for subscription_id in due:
            with self._uow() as uow:
                locked = uow.subscriptions.get_by_id(subscription_id, lock=True)
                changed = locked.period_end_due(now, self._grace) if locked else None
                if locked is None or changed is None:
                    continue
                uow.subscriptions.save(changed)
                uow.events.subscription_changed(changed, locked.state)
                self._entitlement.announce(uow, locked, changed)
                if changed.state is SubscriptionState.PAST_DUE and locked.state is not SubscriptionState.PAST_DUE:
                    uow.events.payment_failed(
                        changed.page, "", changed.name, "the renewal was not paid", changed.contact_email
                    )
                uow.commit()
                handled += 1
        return handled

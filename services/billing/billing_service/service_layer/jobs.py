"""The billing job, run once across replicas: period ends, stale checkouts, expired credits."""

from __future__ import annotations

from billing_service.service_layer.common import Clock, UowFactory
from billing_service.service_layer.ledger import LedgerUseCases
from billing_service.service_layer.subscriptions import SubscriptionUseCases


class BillingJobs:
    def __init__(
        self, uow: UowFactory, clock: Clock, subscriptions: SubscriptionUseCases, ledger: LedgerUseCases
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._subscriptions = subscriptions
        self._ledger = ledger

    def expire_checkouts(self) -> int:
        """Open checkouts past their expiry are closed (a late payment event then changes nothing)."""
        now = self._clock()
        with self._uow(read_only=True) as uow:
            due = uow.checkouts.expired_open_ids(now)
        handled = 0
        for checkout_id in due:
            with self._uow() as uow:
                checkout = uow.checkouts.get_by_id(checkout_id, lock=True)
                if checkout is None or checkout.state.name != "OPEN":
                    continue
                uow.checkouts.save(checkout.expired(now))
                uow.commit()
                handled += 1
        return handled

    def run(self) -> int:
        return self._subscriptions.end_due_periods() + self.expire_checkouts() + self._ledger.expire_due_credits()

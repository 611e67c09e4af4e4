"""The billing service's use cases, as wired by the bootstrap and called by the entrypoints."""

from __future__ import annotations

from dataclasses import dataclass

from billing_service.service_layer.checkouts import CatalogueUseCases, CheckoutUseCases, InvoiceUseCases
from billing_service.service_layer.entitlements import EntitlementUseCases
from billing_service.service_layer.jobs import BillingJobs
from billing_service.service_layer.ledger import LedgerUseCases
from billing_service.service_layer.payments import PaymentWebhook
from billing_service.service_layer.plan_changes import PlanChangeUseCases
from billing_service.service_layer.subscriptions import SubscriptionUseCases
from billing_service.service_layer.unlocks import UnlockUseCases


@dataclass(frozen=True)
class BillingApp:
    catalogue: CatalogueUseCases
    checkouts: CheckoutUseCases
    subscriptions: SubscriptionUseCases
    plan_changes: PlanChangeUseCases
    entitlements: EntitlementUseCases
    ledger: LedgerUseCases
    unlocks: UnlockUseCases
    invoices: InvoiceUseCases
    payments: PaymentWebhook
    jobs: BillingJobs

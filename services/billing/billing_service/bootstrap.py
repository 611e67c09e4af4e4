"""Wires the billing service on the shared runtime: use cases on a unit-of-work factory (`build_app`,
which tests also call on the in-memory one), neighbours, payment provider, the period job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from billing_service.adapters.local_provider.forwarder import WebhookForwarder
from billing_service.adapters.local_provider.provider import LocalPaymentProvider
from billing_service.adapters.local_provider.running import payment_provider
from billing_service.adapters.neighbours import connect_neighbours
from billing_service.domain.unlocks import UnlockPrices
from billing_service.entrypoints.grpc_servicer import BillingServicer
from billing_service.service_layer.app import BillingApp
from billing_service.service_layer.checkouts import CatalogueUseCases, CheckoutUseCases, InvoiceUseCases
from billing_service.service_layer.common import Clock, UowFactory
from billing_service.service_layer.entitlements import Entitlement, EntitlementUseCases
from billing_service.service_layer.jobs import BillingJobs
from billing_service.service_layer.ledger import LedgerUseCases
from billing_service.service_layer.payments import PaymentWebhook
from billing_service.service_layer.plan_changes import PlanChangeUseCases
from billing_service.service_layer.ports import PageStates, PaymentProvider
from billing_service.service_layer.subscriptions import SubscriptionUseCases
from billing_service.service_layer.unit_of_work import SqlBillingUnitOfWork
from billing_service.service_layer.unlocks import UnlockUseCases
from billing_service.settings import BillingSettings
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.auth.verifier import TokenVerifier
from devinsider_common.clock import utc_now
from devinsider_common.grpc.server import ServiceRegistration
from devinsider_common.jobs import Job
from devinsider_common.pages.authorization import BlockList, PageAccess, PageAuthorizer
from devinsider_common.pages.ports import UserDirectory
from devinsider_common.pages.user_directory import user_directory
from devinsider_common.pagination import ListLimits
from devinsider_common.runtime import RunningService, open_runtime, serve

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name


@dataclass
class BillingService(RunningService[BillingSettings, BillingApp]):
    """A running billing service; with PAYMENT_PROVIDER=local, its provider and webhook forwarder."""

    provider: LocalPaymentProvider | None = None
    forwarder: WebhookForwarder | None = None


def build_app(
    settings: BillingSettings,
    uow: UowFactory,
    clock: Clock,
    access: PageAccess,
    blocks: BlockList,
    states: PageStates,
    provider: PaymentProvider,
    users: UserDirectory | None = None,
) -> BillingApp:
    limits = ListLimits.from_settings(settings)
    auth = PageAuthorizer(access, users)
    grace, ttl = timedelta(days=settings.past_due_grace_days), timedelta(minutes=settings.checkout_ttl_minutes)
    entitlement = Entitlement(settings.free_tier())
    subscriptions = SubscriptionUseCases(uow, clock, auth, provider, limits, grace, entitlement)
    ledger = LedgerUseCases(uow, clock, auth, limits)
    origins, tax = settings.allowed_return_origins, settings.tax_rate_bps
    prices = UnlockPrices.from_config(settings.unlock_costs)
    tolerance = timedelta(seconds=settings.payment_webhook_tolerance_seconds)
    return BillingApp(
        catalogue=CatalogueUseCases(uow, limits),
        checkouts=CheckoutUseCases(uow, clock, auth, provider, allowed_origins=origins, ttl=ttl, tax_rate_bps=tax),
        subscriptions=subscriptions,
        plan_changes=PlanChangeUseCases(uow, clock, auth, provider, entitlement, tax),
        entitlements=EntitlementUseCases(uow, auth, entitlement),
        ledger=ledger,
        unlocks=UnlockUseCases(uow, clock, auth, access, blocks, states, prices, limits),
        invoices=InvoiceUseCases(uow, auth, limits),
        payments=PaymentWebhook(uow, clock, settings.payment_webhook_secret, tolerance, tax, entitlement),
        jobs=BillingJobs(uow, clock, subscriptions, ledger),
    )


def start(
    settings: BillingSettings, verifier: TokenVerifier | None = None, *, clock: Clock = utc_now
) -> BillingService:
    """Migrate, then serve; with PAYMENT_PROVIDER=local the local provider runs in process."""
    provider, local = payment_provider(settings, clock)
    runtime = open_runtime(settings, MIGRATIONS, verifier=verifier)
    access, blocks, states = connect_neighbours(settings, runtime.service_channels, runtime.cache)
    uow = partial(SqlBillingUnitOfWork, runtime.engine)
    app = build_app(settings, uow, clock, access, blocks, states, provider, user_directory(runtime.guard))
    add_servicer = billing_pb2_grpc.add_BillingServiceServicer_to_server
    registration = ServiceRegistration(SERVICE_NAME, add_servicer, BillingServicer(app))
    job = Job("billing-periods", app.jobs.run, settings.billing_job_interval_seconds)
    running = serve(runtime, app, [registration], jobs=[job], on_stop=[local.stop] if local else [])
    service = BillingService(running.runtime, app, running.server, running.jobs)
    if local is not None:
        service.provider, service.forwarder = local.start(service.port)
    return service

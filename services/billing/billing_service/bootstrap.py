"""Wires the billing service: engine, migrations, neighbours, provider, use cases, jobs, server.

Every external resource is created here (never at import time), so tests build the same
service on their own schema, key prefix and vhost, and with their own neighbours, by passing
other settings or the ports themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from billing_service.adapters.local_provider.forwarder import WebhookForwarder
from billing_service.adapters.local_provider.provider import LocalPaymentProvider
from billing_service.adapters.neighbours import GrpcPageStates, block_list, page_access, page_stubs
from billing_service.adapters.payment_provider import HttpPaymentProvider
from billing_service.domain.unlocks import UnlockPrices
from billing_service.entrypoints.grpc_servicer import BillingServicer
from billing_service.service_layer.app import BillingApp
from billing_service.service_layer.checkouts import CatalogueUseCases, CheckoutUseCases, InvoiceUseCases
from billing_service.service_layer.common import Authorizer, Clock
from billing_service.service_layer.jobs import BillingJobs
from billing_service.service_layer.ledger import LedgerUseCases
from billing_service.service_layer.payments import PaymentWebhook
from billing_service.service_layer.ports import BlockList, PageAccess, PageStates, PaymentProvider
from billing_service.service_layer.subscriptions import SubscriptionUseCases
from billing_service.service_layer.unit_of_work import BillingUnitOfWork
from billing_service.service_layer.unlocks import UnlockUseCases
from billing_service.settings import BillingSettings
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.service_identity import service_token_provider
from devinsider_common.auth.user_access import platform_access_guard
from devinsider_common.auth.verifier import AccessGuard, TokenVerifier
from devinsider_common.cache import create_cache
from devinsider_common.clock import utc_now
from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine, ping
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.grpc.server import RunningServer, ServiceRegistration, start_server
from devinsider_common.jobs import Job, start_scheduler
from devinsider_common.locks import create_lock_factory
from devinsider_common.outbox.relay import start_relay_thread
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.ports import UserDirectory
from devinsider_common.pages.user_directory import user_directory
from devinsider_common.pagination import ListLimits

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name


@dataclass
class BillingService:
    """A running billing service and what tests may want to reach inside it."""

    settings: BillingSettings
    engine: Engine
    app: BillingApp
    server: RunningServer
    provider: LocalPaymentProvider | None = None
    forwarder: WebhookForwarder | None = None

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)
        self.engine.dispose()


def build_app(
    settings: BillingSettings,
    engine: Engine,
    access: PageAccess,
    blocks: BlockList,
    states: PageStates,
    provider: PaymentProvider,
    clock: Clock = utc_now,
    users: UserDirectory | None = None,
) -> BillingApp:
    def uow() -> BillingUnitOfWork:
        return BillingUnitOfWork(engine)

    limits = ListLimits(settings.default_page_size, settings.max_page_size)
    authorizer = Authorizer(access, users)
    subscriptions = SubscriptionUseCases(
        uow, clock, authorizer, provider, limits, timedelta(days=settings.past_due_grace_days)
    )
    ledger = LedgerUseCases(uow, clock, authorizer, limits)
    return BillingApp(
        catalogue=CatalogueUseCases(uow, limits),
        checkouts=CheckoutUseCases(
            uow,
            clock,
            authorizer,
            provider,
            allowed_origins=settings.allowed_return_origins,
            ttl=timedelta(minutes=settings.checkout_ttl_minutes),
            tax_rate_bps=settings.tax_rate_bps,
        ),
        subscriptions=subscriptions,
        ledger=ledger,
        unlocks=UnlockUseCases(
            uow, clock, authorizer, access, blocks, states, UnlockPrices.from_config(settings.unlock_costs), limits
        ),
        invoices=InvoiceUseCases(uow, authorizer, limits),
        payments=PaymentWebhook(
            uow,
            clock,
            settings.payment_webhook_secret,
            timedelta(seconds=settings.payment_webhook_tolerance_seconds),
            settings.tax_rate_bps,
        ),
        jobs=BillingJobs(uow, clock, subscriptions, ledger),
    )


def start(
    settings: BillingSettings,
    verifier: TokenVerifier | None = None,
    guard: AccessGuard | None = None,
    clock: Clock = utc_now,
) -> BillingService:
    """Migrate, then serve; with PAYMENT_PROVIDER=local the local provider runs in process."""
    engine = create_service_engine(settings.effective_database_url, settings.schema_name)
    migrations.upgrade(engine, settings.schema_name, MIGRATIONS)
    cache = create_cache(settings)
    channels = ChannelFactory(token_provider=service_token_provider(settings.auth, settings.service_name))
    targets = {
        PageKind.COMPANY: settings.company_target,
        PageKind.INVESTOR: settings.investor_target,
        PageKind.PROGRAM: settings.program_target,
    }
    stubs = page_stubs(channels, targets)
    access = page_access(stubs, cache, settings.remote_cache_ttl_seconds)
    blocks = block_list(channels, settings.matching_target, cache, settings.remote_cache_ttl_seconds)
    local: LocalPaymentProvider | None = None
    provider_url = settings.payment_provider_url
    if settings.payment_provider not in ("local", "http") or (settings.payment_provider == "http" and not provider_url):
        raise ValueError("PAYMENT_PROVIDER must be `local`, or `http` with PAYMENT_PROVIDER_URL")
    if settings.payment_provider == "local":
        local = LocalPaymentProvider(
            settings.payment_provider_api_key,
            settings.payment_webhook_secret,
            port=settings.local_provider_port,
            clock=lambda: clock().timestamp(),
        )
        provider_url = local.url
    provider = HttpPaymentProvider(provider_url, settings.payment_provider_api_key)
    if guard is None:
        token = service_token_provider(settings.auth, settings.service_name)
        guard = platform_access_guard(settings, channels, token, cache)
    app = build_app(settings, engine, access, blocks, GrpcPageStates(stubs), provider, clock, user_directory(guard))
    if verifier is None:
        jwt_verifier = JwtVerifier(settings.auth)
        jwt_verifier.prewarm()
        verifier = jwt_verifier
    registration = ServiceRegistration(
        SERVICE_NAME, billing_pb2_grpc.add_BillingServiceServicer_to_server, BillingServicer(app)
    )
    server = start_server(settings, [registration], verifier, guard, probe=lambda: ping(engine), engine=engine)
    server.on_stop.append(channels.close)
    relay = start_relay_thread(engine, settings.broker)
    if relay is not None:
        server.on_stop.append(relay.stop)
    job = Job("billing-periods", app.jobs.run, settings.billing_job_interval_seconds)
    server.on_stop.append(start_scheduler([job], create_lock_factory(settings)))
    service = BillingService(settings, engine, app, server)
    if local is not None:
        webhook_url = settings.payment_webhook_url
        if not webhook_url:
            service.forwarder = WebhookForwarder(f"127.0.0.1:{server.port}").start()
            server.on_stop.append(service.forwarder.stop)
            webhook_url = service.forwarder.url
        service.provider = local.start(webhook_url)
        server.on_stop.append(local.stop)
    return service

"""Wires the investor service: engine, migrations, use cases, auth, relay, expiry job, gRPC server.

Every external resource is created here (never at import time), so tests build the same
service on their own schema, key prefix and vhost by passing other settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.service_identity import service_token_provider
from devinsider_common.auth.user_access import platform_access_guard
from devinsider_common.auth.verifier import TokenVerifier
from devinsider_common.cache import create_cache
from devinsider_common.clock import utc_now
from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine, ping
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.grpc.server import RunningServer, ServiceRegistration, start_server
from devinsider_common.jobs import Job, start_scheduler
from devinsider_common.locks import create_lock_factory
from devinsider_common.outbox.relay import start_relay_thread
from devinsider_common.pages.invitations import PageInvitations, invitation_rate
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.ports import UserDirectory
from devinsider_common.pages.unlocks import UnlockChecker, unlock_checker
from devinsider_common.pages.user_directory import user_directory
from devinsider_common.pagination import ListLimits
from investor_service.entrypoints.grpc_servicer import InvestorServicer
from investor_service.service_layer.app import InvestorApp
from investor_service.service_layer.investors import InvestorUseCases
from investor_service.service_layer.unit_of_work import InvestorUnitOfWork
from investor_service.settings import InvestorSettings

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = investor_pb2.DESCRIPTOR.services_by_name["InvestorService"].full_name
EXPIRY_JOB = "investor-invitation-expiry"


@dataclass
class InvestorService:
    """A running investor service and what tests may want to reach inside it."""

    settings: InvestorSettings
    engine: Engine
    app: InvestorApp
    server: RunningServer

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)
        self.engine.dispose()


def build_app(settings: InvestorSettings, engine: Engine, users: UserDirectory, unlocks: UnlockChecker) -> InvestorApp:
    def uow() -> InvestorUnitOfWork:
        return InvestorUnitOfWork(engine, settings.invitation_accept_url)

    limits = ListLimits(settings.default_page_size, settings.max_page_size)
    members = PageMembers(uow, utc_now, limits, users)
    ttl = timedelta(hours=settings.invitation_ttl_hours)
    return InvestorApp(
        investors=InvestorUseCases(uow, utc_now, limits, members, unlocks),
        members=members,
        invitations=PageInvitations(uow, utc_now, limits, members, ttl, invitation_rate(settings)),
    )


def start(
    settings: InvestorSettings,
    verifier: TokenVerifier | None = None,
    run_jobs: bool = True,
    *,
    unlocks: UnlockChecker | None = None,
) -> InvestorService:
    """Migrate, then serve; the outbox relay runs when AMQP_URL is set, the expiry job on a schedule."""
    engine = create_service_engine(settings.effective_database_url, settings.schema_name)
    migrations.upgrade(engine, settings.schema_name, MIGRATIONS)
    channels = ChannelFactory()
    tokens = service_token_provider(settings.auth, settings.service_name)
    cache = create_cache(settings)
    guard = platform_access_guard(settings, channels, tokens, cache)
    if unlocks is None:
        unlocks = unlock_checker(channels, settings.billing_target, tokens, cache, settings.unlock_cache_ttl_seconds)
    app = build_app(settings, engine, user_directory(guard), unlocks)
    if verifier is None:
        jwt_verifier = JwtVerifier(settings.auth)
        jwt_verifier.prewarm()
        verifier = jwt_verifier
    servicer = InvestorServicer(app, settings.page_access_cache_ttl_seconds)
    registration = ServiceRegistration(SERVICE_NAME, investor_pb2_grpc.add_InvestorServiceServicer_to_server, servicer)
    server = start_server(settings, [registration], verifier, guard, probe=lambda: ping(engine), engine=engine)
    server.on_stop.append(channels.close)
    relay = start_relay_thread(engine, settings.broker)
    if relay is not None:
        server.on_stop.append(relay.stop)
    if run_jobs:
        expiry = Job(EXPIRY_JOB, app.invitations.expire_due, settings.invitation_expiry_interval_seconds)
        server.on_stop.insert(0, start_scheduler([expiry], create_lock_factory(settings)))
    return InvestorService(settings, engine, app, server)

"""Wires the company service: engine, migrations, use cases, auth, jobs, relay, gRPC server.

Every external resource is created here (never at import time), so tests build the same
service on their own schema, key prefix, upload directory and vhost by passing other settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from company_service.adapters.logo_storage import LocalDiskLogoStorage
from company_service.entrypoints.grpc_servicer import CompanyServicer
from company_service.service_layer.app import CompanyApp
from company_service.service_layer.claims import ClaimUseCases
from company_service.service_layer.companies import Clock, CompanyUseCases
from company_service.service_layer.logos import LogoUseCases
from company_service.service_layer.ports import LogoStorage, UnlockChecker
from company_service.service_layer.unit_of_work import CompanyUnitOfWork
from company_service.settings import CompanySettings
from devinsider.company.v1 import company_pb2, company_pb2_grpc
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
from devinsider_common.pages.unlocks import unlock_checker
from devinsider_common.pages.user_directory import user_directory
from devinsider_common.pagination import ListLimits

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = company_pb2.DESCRIPTOR.services_by_name["CompanyService"].full_name
INVITATION_EXPIRY_JOB = "company-invitation-expiry"


@dataclass
class CompanyService:
    """A running company service and what tests may want to reach inside it."""

    settings: CompanySettings
    engine: Engine
    app: CompanyApp
    server: RunningServer
    jobs: list[Job] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)
        self.engine.dispose()


def logo_url_for(settings: CompanySettings) -> Callable[[str], str]:
    """Where GetCompanyLogo serves a company's logo through the gateway."""
    base = settings.public_api_base_url.rstrip("/")
    return lambda company_id: f"{base}/v1/companies/{company_id}/logo"


def build_app(
    settings: CompanySettings,
    engine: Engine,
    clock: Clock,
    unlocks: UnlockChecker,
    storage: LogoStorage,
    users: UserDirectory,
) -> CompanyApp:
    logo_url = logo_url_for(settings)

    def uow() -> CompanyUnitOfWork:
        return CompanyUnitOfWork(engine, settings.invitation_accept_url, logo_url)

    limits = ListLimits(settings.default_page_size, settings.max_page_size)
    members = PageMembers(uow, clock, limits, users)
    ttl = timedelta(hours=settings.invitation_ttl_hours)
    return CompanyApp(
        companies=CompanyUseCases(uow, clock, limits, members, unlocks),
        claims=ClaimUseCases(uow, clock, members),
        logos=LogoUseCases(uow, clock, storage, settings.logo_max_bytes),
        members=members,
        invitations=PageInvitations(uow, clock, limits, members, ttl, invitation_rate(settings)),
    )


def start(
    settings: CompanySettings,
    verifier: TokenVerifier | None = None,
    *,
    clock: Clock = utc_now,
    unlocks: UnlockChecker | None = None,
    storage: LogoStorage | None = None,
    run_jobs: bool = True,
) -> CompanyService:
    """Migrate, then serve; the outbox relay runs when AMQP_URL is set, the expiry job on a schedule."""
    engine = create_service_engine(settings.effective_database_url, settings.schema_name)
    migrations.upgrade(engine, settings.schema_name, MIGRATIONS)
    channels = ChannelFactory()
    cache = create_cache(settings)
    service_token = service_token_provider(settings.auth, settings.service_name)
    if unlocks is None:
        unlocks = unlock_checker(
            channels, settings.billing_target, service_token, cache, settings.unlock_cache_ttl_seconds
        )
    guard = platform_access_guard(settings, channels, service_token, cache)
    storage = storage or LocalDiskLogoStorage(settings.upload_dir)
    app = build_app(settings, engine, clock, unlocks, storage, user_directory(guard))
    if verifier is None:
        jwt_verifier = JwtVerifier(settings.auth)
        jwt_verifier.prewarm()
        verifier = jwt_verifier
    servicer = CompanyServicer(app, logo_url_for(settings), settings.page_access_cache_ttl_seconds)
    registration = ServiceRegistration(SERVICE_NAME, company_pb2_grpc.add_CompanyServiceServicer_to_server, servicer)
    server = start_server(settings, [registration], verifier, guard, probe=lambda: ping(engine), engine=engine)
    server.on_stop.append(channels.close)
    jobs = [Job(INVITATION_EXPIRY_JOB, app.invitations.expire_due, settings.invitation_expiry_interval_seconds)]
    if run_jobs:
        server.on_stop.append(start_scheduler(jobs, create_lock_factory(settings)))
    relay = start_relay_thread(engine, settings.broker)
    if relay is not None:
        server.on_stop.append(relay.stop)
    return CompanyService(settings, engine, app, server, jobs)

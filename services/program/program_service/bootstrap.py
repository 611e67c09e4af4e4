"""Wires the program service: engine, migrations, use cases, company client, auth, jobs, relay, server.

Every external resource is created here (never at import time), so tests build the same
service on their own schema, key prefix, vhost and company-service address by passing other settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from devinsider.company.v1 import company_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.service_identity import service_token_provider
from devinsider_common.auth.user_access import platform_access_guard
from devinsider_common.auth.verifier import AccessGuard, TokenVerifier
from devinsider_common.cache import create_cache
from devinsider_common.clock import utc_now
from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine, ping
from devinsider_common.grpc.clients import ChannelFactory, TokenProvider
from devinsider_common.grpc.server import RunningServer, ServiceRegistration, start_server
from devinsider_common.jobs import Job, start_scheduler
from devinsider_common.locks import create_lock_factory
from devinsider_common.outbox.relay import start_relay_thread
from devinsider_common.pages.invitations import PageInvitations, invitation_rate
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.ports import UserDirectory
from devinsider_common.pages.user_directory import user_directory
from devinsider_common.pagination import ListLimits
from program_service.adapters.company_client import CompanyDirectory, GrpcCompanyDirectory
from program_service.entrypoints.grpc_servicer import ProgramServicer
from program_service.service_layer.app import ProgramApp
from program_service.service_layer.applications import ApplicationUseCases
from program_service.service_layer.programs import ProgramUseCases
from program_service.service_layer.unit_of_work import ProgramUnitOfWork
from program_service.settings import ProgramSettings

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = program_pb2.DESCRIPTOR.services_by_name["ProgramService"].full_name
EXPIRY_JOB = "program-invitation-expiry"


@dataclass
class ProgramService:
    """A running program service and what tests may want to reach inside it."""

    settings: ProgramSettings
    engine: Engine
    app: ProgramApp
    server: RunningServer
    channels: ChannelFactory

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)
        self.channels.close()
        self.engine.dispose()


def build_app(
    settings: ProgramSettings, engine: Engine, companies: CompanyDirectory, users: UserDirectory
) -> ProgramApp:
    def uow() -> ProgramUnitOfWork:
        return ProgramUnitOfWork(engine, settings.invitation_accept_url)

    limits = ListLimits(settings.default_page_size, settings.max_page_size)
    members = PageMembers(uow, utc_now, limits, users)
    ttl = timedelta(hours=settings.invitation_ttl_hours)
    return ProgramApp(
        programs=ProgramUseCases(uow, utc_now, limits, members, companies),
        applications=ApplicationUseCases(uow, utc_now, limits, companies, users),
        members=members,
        invitations=PageInvitations(uow, utc_now, limits, members, ttl, invitation_rate(settings)),
    )


def start(
    settings: ProgramSettings,
    verifier: TokenVerifier | None = None,
    guard: AccessGuard | None = None,
    service_tokens: TokenProvider | None = None,
    run_jobs: bool = True,
) -> ProgramService:
    """Migrate, then serve; the outbox relay runs when AMQP_URL is set, the expiry job when `run_jobs`."""
    engine = create_service_engine(settings.effective_database_url, settings.schema_name)
    migrations.upgrade(engine, settings.schema_name, MIGRATIONS)
    cache = create_cache(settings)
    # Calls to the company service carry this service's own token: its CheckPageAccess is service-only.
    service_tokens = service_tokens or service_token_provider(settings.auth, settings.service_name)
    channels = ChannelFactory(settings.client_timeout_seconds, service_tokens)
    company_stub = channels.stub(
        settings.company_target,
        company_pb2_grpc.CompanyServiceStub,
        idempotent_methods=["/devinsider.company.v1.CompanyService/CheckPageAccess"],
    )
    companies = GrpcCompanyDirectory(company_stub, cache, settings.company_access_cache_ttl_seconds)
    if guard is None:
        guard = platform_access_guard(settings, channels, service_tokens, cache)
    app = build_app(settings, engine, companies, user_directory(guard))
    if verifier is None:
        jwt_verifier = JwtVerifier(settings.auth)
        jwt_verifier.prewarm()
        verifier = jwt_verifier
    registration = ServiceRegistration(
        SERVICE_NAME,
        program_pb2_grpc.add_ProgramServiceServicer_to_server,
        ProgramServicer(app, settings.page_access_cache_ttl_seconds),
    )
    server = start_server(settings, [registration], verifier, guard, probe=lambda: ping(engine), engine=engine)
    relay = start_relay_thread(engine, settings.broker)
    if relay is not None:
        server.on_stop.append(relay.stop)
    if run_jobs:
        expiry = Job(EXPIRY_JOB, app.invitations.expire_due, settings.invitation_expiry_interval_seconds)
        server.on_stop.append(start_scheduler([expiry], create_lock_factory(settings)))
    return ProgramService(settings, engine, app, server, channels)

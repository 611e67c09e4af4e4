"""Wires the program service: its use cases on a unit of work and the company service, then the
shared runtime (engine, migrations, cache, channels, auth) serves them with the invitation expiry job.

Every external resource is created here (never at import time), so tests build the same
service on their own schema, key prefix, vhost and company-service address by passing other settings.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

from devinsider.company.v1 import company_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.auth.verifier import AccessGuard, TokenVerifier
from devinsider_common.clock import utc_now
from devinsider_common.entitlements import EntitlementsSource, entitlements_subscriptions
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.grpc.server import ServiceRegistration
from devinsider_common.jobs import Job
from devinsider_common.pages.departures import AccountDeletions
from devinsider_common.pages.directory_filters import RemoteMembership, connect_plan_sources, plan_limits
from devinsider_common.pages.invitations import PageInvitations, invitation_rate
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.orphans import PageOwners
from devinsider_common.pages.user_directory import user_directory, user_lookup
from devinsider_common.pagination import ListLimits
from devinsider_common.runtime import RunningService, open_runtime, serve
from program_service.adapters.company_client import GrpcCompanyDirectory
from program_service.entrypoints.grpc_servicer import ProgramServicer
from program_service.service_layer.app import ProgramApp
from program_service.service_layer.applications import ApplicationUseCases
from program_service.service_layer.ports import Clock, CompanyDirectory, UowFactory, UserDirectory, UserLookup
from program_service.service_layer.programs import ProgramUseCases
from program_service.service_layer.unit_of_work import SOURCE, SqlProgramUnitOfWork
from program_service.settings import ProgramSettings

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = program_pb2.DESCRIPTOR.services_by_name["ProgramService"].full_name
EXPIRY_JOB = "program-invitation-expiry"
COMPANY_CHECK_PAGE_ACCESS = "/devinsider.company.v1.CompanyService/CheckPageAccess"

ProgramService = RunningService[ProgramSettings, ProgramApp]


def build_app(
    settings: ProgramSettings,
    uow: UowFactory,
    clock: Clock,
    companies: CompanyDirectory,
    users: UserDirectory,
    lookup: UserLookup,
    entitlements: EntitlementsSource | None = None,
    others: RemoteMembership | None = None,
) -> ProgramApp:
    """The use cases; with `entitlements` (billing's), seats and directory filters are enforced (`others`:
    membership of the other kinds' pages, for `viewer_page`)."""
    limits = ListLimits.from_settings(settings)
    members = PageMembers(uow, clock, limits, users)
    ttl = timedelta(hours=settings.invitation_ttl_hours)
    seats, filters = plan_limits(PageKind.PROGRAM, uow, entitlements, others)
    return ProgramApp(
        programs=ProgramUseCases(uow, clock, limits, members, companies, filters),
        applications=ApplicationUseCases(uow, clock, limits, companies, users),
        members=members,
        invitations=PageInvitations(uow, clock, limits, members, ttl, invitation_rate(settings), seats),
        owners=PageOwners(uow, clock, lookup),
    )


def start(
    settings: ProgramSettings,
    verifier: TokenVerifier | None = None,
    guard: AccessGuard | None = None,
    *,
    run_jobs: bool = True,
) -> ProgramService:
    """Migrate, then serve; with AMQP_URL the outbox relay and the consumers of account deletions and of
    billing's EntitlementsChanged run, the expiry job when `run_jobs`."""
    runtime = open_runtime(settings, MIGRATIONS, verifier=verifier, guard=guard)
    # Calls to the company service carry this service's own token: its CheckPageAccess is service-only.
    company_channels = ChannelFactory(settings.client_timeout_seconds, runtime.service_token)
    company_stub = company_channels.stub(
        settings.company_target, company_pb2_grpc.CompanyServiceStub, idempotent_methods=[COMPANY_CHECK_PAGE_ACCESS]
    )
    companies = GrpcCompanyDirectory(company_stub, runtime.cache, settings.company_access_cache_ttl_seconds)
    uow = partial(SqlProgramUnitOfWork, runtime.engine, settings.invitation_accept_url)
    lookup = user_lookup(settings, runtime.service_channels)
    others = {PageKind.COMPANY: settings.company_target, PageKind.INVESTOR: settings.investor_target}
    entitlements, membership = connect_plan_sources(settings, runtime.service_channels, runtime.cache, others)
    app = build_app(settings, uow, utc_now, companies, user_directory(runtime.guard), lookup, entitlements, membership)
    servicer = ProgramServicer(app, settings.page_access_cache_ttl_seconds)
    registration = ServiceRegistration(SERVICE_NAME, program_pb2_grpc.add_ProgramServiceServicer_to_server, servicer)
    expiry = Job(EXPIRY_JOB, app.invitations.expire_due, settings.invitation_expiry_interval_seconds)
    departures = AccountDeletions(SOURCE, uow, utc_now)
    return serve(
        runtime,
        app,
        [registration],
        jobs=[expiry],
        run_jobs=run_jobs,
        subscriptions=[departures.subscription(), *entitlements_subscriptions(settings.service_name, entitlements)],
        on_stop=[company_channels.close],
    )

"""Wires the company service: its use cases on a unit of work (`build_app`), its adapters, the runtime.
Every external resource is opened here (never at import time); tests build the same app on the
in-memory unit of work (tests/fakes.py) by calling `build_app`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from company_service.adapters.logo_storage import LocalDiskLogoStorage
from company_service.entrypoints.grpc_servicer import CompanyServicer
from company_service.service_layer.app import CompanyApp
from company_service.service_layer.claims import ClaimUseCases
from company_service.service_layer.companies import CompanyUseCases
from company_service.service_layer.logos import LogoUseCases
from company_service.service_layer.ports import (
    Clock,
    LogoStorage,
    UnlockChecker,
    UowFactory,
    UserDirectory,
    UserLookup,
)
from company_service.service_layer.unit_of_work import SOURCE, SqlCompanyUnitOfWork
from company_service.settings import CompanySettings
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.auth.verifier import TokenVerifier
from devinsider_common.clock import utc_now
from devinsider_common.entitlements import EntitlementsSource, entitlements_subscriptions
from devinsider_common.grpc.server import ServiceRegistration
from devinsider_common.jobs import Job
from devinsider_common.pages.departures import AccountDeletions
from devinsider_common.pages.directory_filters import RemoteMembership, connect_plan_sources, plan_limits
from devinsider_common.pages.invitations import PageInvitations, invitation_rate
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.orphans import PageOwners
from devinsider_common.pages.unlocks import UnlockProjector, projected_unlocks
from devinsider_common.pages.user_directory import user_directory, user_lookup
from devinsider_common.pagination import ListLimits
from devinsider_common.runtime import RunningService, open_runtime, serve

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = company_pb2.DESCRIPTOR.services_by_name["CompanyService"].full_name
INVITATION_EXPIRY_JOB = "company-invitation-expiry"

# A running company service: `.app`, `.engine`, `.port`, `.settings`, `.jobs`, `.stop(grace)`.
CompanyService = RunningService[CompanySettings, CompanyApp]


def logo_url_for(settings: CompanySettings) -> Callable[[str], str]:
    """Where GetCompanyLogo serves a company's logo through the gateway."""
    base = settings.public_api_base_url.rstrip("/")
    return lambda company_id: f"{base}/v1/companies/{company_id}/logo"


def build_app(
    settings: CompanySettings,
    uow: UowFactory,
    clock: Clock,
    users: UserDirectory,
    unlocks: UnlockChecker,
    storage: LogoStorage,
    lookup: UserLookup,
    entitlements: EntitlementsSource | None = None,
    others: RemoteMembership | None = None,
) -> CompanyApp:
    """The use cases; with `entitlements` (billing's), seats and directory filters are enforced (`others`:
    membership of the other kinds' pages, for `viewer_page`)."""
    limits = ListLimits.from_settings(settings)
    members = PageMembers(uow, clock, limits, users)
    ttl = timedelta(hours=settings.invitation_ttl_hours)
    seats, filters = plan_limits(PageKind.COMPANY, uow, entitlements, others)
    return CompanyApp(
        companies=CompanyUseCases(uow, clock, limits, members, unlocks, filters),
        claims=ClaimUseCases(uow, clock, members, unlocks),
        logos=LogoUseCases(uow, clock, storage, settings.logo_max_bytes),
        members=members,
        invitations=PageInvitations(uow, clock, limits, members, ttl, invitation_rate(settings), seats),
        owners=PageOwners(uow, clock, lookup),
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
    """Migrate, then serve (with AMQP_URL: the relay and the consumers of unlocks, account deletions and
    billing's EntitlementsChanged; the expiry job
    unless `run_jobs` is false); tests may pass dev tokens' `verifier`, their `clock`, an `unlocks` checker
    or logo `storage`."""
    runtime = open_runtime(settings, MIGRATIONS, verifier=verifier)
    logo_url = logo_url_for(settings)
    uow = partial(SqlCompanyUnitOfWork, runtime.engine, settings.invitation_accept_url, logo_url)
    if unlocks is None:
        unlocking = {PageKind.INVESTOR: settings.investor_target, PageKind.PROGRAM: settings.program_target}
        ttl = settings.unlock_cache_ttl_seconds
        unlocks = projected_unlocks(runtime.service_channels, unlocking, runtime.cache, ttl)
    storage = storage or LocalDiskLogoStorage(settings.upload_dir)
    users = user_directory(runtime.guard)
    others = {PageKind.INVESTOR: settings.investor_target, PageKind.PROGRAM: settings.program_target}
    entitlements, membership = connect_plan_sources(settings, runtime.service_channels, runtime.cache, others)
    lookup = user_lookup(settings, runtime.service_channels)
    app = build_app(settings, uow, clock, users, unlocks, storage, lookup, entitlements, membership)
    servicer = CompanyServicer(app, logo_url, settings.page_access_cache_ttl_seconds)
    registration = ServiceRegistration(SERVICE_NAME, company_pb2_grpc.add_CompanyServiceServicer_to_server, servicer)
    expiry = Job(INVITATION_EXPIRY_JOB, app.invitations.expire_due, settings.invitation_expiry_interval_seconds)
    projector = UnlockProjector(SOURCE, PageKind.COMPANY, uow)
    departures = AccountDeletions(SOURCE, uow, clock)
    subscriptions = [projector.subscription(), departures.subscription()]
    subscriptions += entitlements_subscriptions(settings.service_name, entitlements)
    return serve(runtime, app, [registration], jobs=[expiry], run_jobs=run_jobs, subscriptions=subscriptions)

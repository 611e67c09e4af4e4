"""Wires the investor service: its use cases on a unit of work (`build_app`), its adapters, the runtime.

Every external resource is opened here (never at import time), so tests build the same service on
their own schema, key prefix and vhost by passing other settings, or the same app on the in-memory
unit of work (tests/fakes.py) by calling `build_app`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
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
from investor_service.entrypoints.grpc_servicer import InvestorServicer
from investor_service.service_layer.app import InvestorApp
from investor_service.service_layer.investors import InvestorUseCases
from investor_service.service_layer.ports import UnlockChecker, UowFactory, UserDirectory, UserLookup
from investor_service.service_layer.unit_of_work import SOURCE, SqlInvestorUnitOfWork
from investor_service.settings import InvestorSettings

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = investor_pb2.DESCRIPTOR.services_by_name["InvestorService"].full_name
EXPIRY_JOB = "investor-invitation-expiry"

# A running investor service: `.app`, `.engine`, `.port`, `.settings`, `.stop(grace)`.
InvestorService = RunningService[InvestorSettings, InvestorApp]


def build_app(
    settings: InvestorSettings,
    uow: UowFactory,
    clock: Callable[[], datetime],
    users: UserDirectory,
    unlocks: UnlockChecker,
    lookup: UserLookup,
    entitlements: EntitlementsSource | None = None,
    others: RemoteMembership | None = None,
) -> InvestorApp:
    """The use cases; with `entitlements` (billing's), seats and directory filters are enforced (`others`:
    membership of the other kinds' pages, for `viewer_page`)."""
    limits = ListLimits.from_settings(settings)
    members = PageMembers(uow, clock, limits, users)
    ttl = timedelta(hours=settings.invitation_ttl_hours)
    seats, filters = plan_limits(PageKind.INVESTOR, uow, entitlements, others)
    return InvestorApp(
        investors=InvestorUseCases(uow, clock, limits, members, unlocks, filters),
        members=members,
        invitations=PageInvitations(uow, clock, limits, members, ttl, invitation_rate(settings), seats),
        owners=PageOwners(uow, clock, lookup),
    )


def start(
    settings: InvestorSettings,
    verifier: TokenVerifier | None = None,
    *,
    run_jobs: bool = True,
    unlocks: UnlockChecker | None = None,
) -> InvestorService:
    """Migrate, then serve; with AMQP_URL the outbox relay and the unlock projection's consumer run, the
    expiry job on a schedule. Tests pass dev tokens' `verifier`, `run_jobs=False` (they expire invitations
    themselves) or their own `unlocks` checker."""
    runtime = open_runtime(settings, MIGRATIONS, verifier=verifier)
    uow = partial(SqlInvestorUnitOfWork, runtime.engine, settings.invitation_accept_url)
    if unlocks is None:
        unlocking = {PageKind.COMPANY: settings.company_target, PageKind.PROGRAM: settings.program_target}
        ttl = settings.unlock_cache_ttl_seconds
        unlocks = projected_unlocks(runtime.service_channels, unlocking, runtime.cache, ttl)
    users = user_directory(runtime.guard)
    others = {PageKind.COMPANY: settings.company_target, PageKind.PROGRAM: settings.program_target}
    entitlements, membership = connect_plan_sources(settings, runtime.service_channels, runtime.cache, others)
    lookup = user_lookup(settings, runtime.service_channels)
    app = build_app(settings, uow, utc_now, users, unlocks, lookup, entitlements, membership)
    servicer = InvestorServicer(app, settings.page_access_cache_ttl_seconds)
    registration = ServiceRegistration(SERVICE_NAME, investor_pb2_grpc.add_InvestorServiceServicer_to_server, servicer)
    expiry = Job(EXPIRY_JOB, app.invitations.expire_due, settings.invitation_expiry_interval_seconds)
    projector = UnlockProjector(SOURCE, PageKind.INVESTOR, uow)
    departures = AccountDeletions(SOURCE, uow, utc_now)
    subscriptions = [projector.subscription(), departures.subscription()]
    subscriptions += entitlements_subscriptions(settings.service_name, entitlements)
    return serve(runtime, app, [registration], jobs=[expiry], run_jobs=run_jobs, subscriptions=subscriptions)

"""Wires the matching service: the use cases on a unit of work, the index and its polling, the page
directory, billing's entitlements, the jobs, the consumers of the page services' events (`matching.pages`)
and of billing's (`matching.entitlements`), the server
(`devinsider_common.runtime` opens, serves and stops it)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from devinsider.matching.v1 import matching_pb2, matching_pb2_grpc
from devinsider_common.auth.verifier import AccessGuard, TokenVerifier
from devinsider_common.clock import utc_now
from devinsider_common.entitlements import connect_entitlements, entitlements_subscriptions
from devinsider_common.grpc.server import ServiceRegistration
from devinsider_common.jobs import Job
from devinsider_common.pages.ports import ClaimsDirectory, UserDirectory
from devinsider_common.pages.user_directory import user_directory
from devinsider_common.pagination import ListLimits
from devinsider_common.runtime import RunningService, open_runtime, serve
from matching_service.adapters.page_directory import GrpcPageDirectory
from matching_service.adapters.page_events import read_page_event
from matching_service.entrypoints.grpc_servicer import MatchingServicer
from matching_service.service_layer.announcer import Announcer
from matching_service.service_layer.app import MatchingApp
from matching_service.service_layer.common import Clock, MatchingConfig, UowFactory
from matching_service.service_layer.departures import CreatorErasure
from matching_service.service_layer.index_sync import IndexSync
from matching_service.service_layer.matches import MatchUseCases
from matching_service.service_layer.page_events import PageStatusFollower
from matching_service.service_layer.ports import EntitlementsSource, PageDirectory
from matching_service.service_layer.profiles import ProfileUseCases
from matching_service.service_layer.social import SocialUseCases
from matching_service.service_layer.status_refresh import StatusRefresher
from matching_service.service_layer.taxonomy import TaxonomyUseCases
from matching_service.service_layer.unit_of_work import SqlMatchingUnitOfWork
from matching_service.settings import MatchingSettings

MIGRATIONS = Path(__file__).parent / "migrations"
ANNOUNCEMENT_JOB = "matching-match-announcements"
STATUS_REFRESH_JOB = "matching-page-status-refresh"
SERVICE_NAME = matching_pb2.DESCRIPTOR.services_by_name["MatchingService"].full_name

MatchingService = RunningService[MatchingSettings, MatchingApp]


def build_app(
    settings: MatchingSettings,
    uow: UowFactory,
    clock: Clock,
    directory: PageDirectory,
    users: UserDirectory | None = None,
    entitlements: EntitlementsSource | None = None,
) -> MatchingApp:
    """The use cases on the unit-of-work factory `uow` (SQL in `start`, in memory in the unit tests)."""
    limits = ListLimits.from_settings(settings)
    config = MatchingConfig(
        weights=settings.weights(),
        significant_score=settings.significant_match_score,
        max_announcements=settings.max_match_announcements,
        check_blocked_ttl_seconds=settings.check_blocked_cache_ttl_seconds,
    )
    sync = IndexSync(uow, config.weights)
    announcer = Announcer(uow, clock, sync, config)
    return MatchingApp(
        config=config,
        taxonomy=TaxonomyUseCases(uow, limits),
        profiles=ProfileUseCases(uow, clock, directory, sync, announcer),
        matches=MatchUseCases(uow, directory, sync, config, limits, entitlements),
        social=SocialUseCases(uow, clock, directory, limits, users or ClaimsDirectory()),
        sync=sync,
        announcer=announcer,
        refresher=StatusRefresher(uow, clock, directory, sync, announcer),
        follower=PageStatusFollower(uow, clock, read_page_event, sync, announcer, directory),
    )


def start(
    settings: MatchingSettings,
    verifier: TokenVerifier | None = None,
    *,
    guard: AccessGuard | None = None,
    directory: PageDirectory | None = None,
    run_jobs: bool = True,
) -> MatchingService:
    """Migrate, load the index, then serve (with AMQP_URL: the relay and the consumer of `matching.pages`);
    the index follows other replicas every poll interval."""
    runtime = open_runtime(settings, MIGRATIONS, verifier=verifier, guard=guard)
    if directory is None:
        directory = GrpcPageDirectory(
            runtime.service_channels,
            settings.page_targets(),
            runtime.cache,
            settings.page_access_cache_ttl_seconds,
            settings.page_summary_cache_ttl_seconds,
        )
    engine = runtime.engine
    caps = connect_entitlements(settings, runtime.service_channels, runtime.cache)
    users = user_directory(runtime.guard)
    app = build_app(settings, partial(SqlMatchingUnitOfWork, engine), utc_now, directory, users, caps)
    app.sync.catch_up()
    add_servicer = matching_pb2_grpc.add_MatchingServiceServicer_to_server
    registration = ServiceRegistration(SERVICE_NAME, add_servicer, MatchingServicer(app))
    jobs = [
        Job(STATUS_REFRESH_JOB, app.refresher.run, settings.page_status_refresh_seconds),
        Job(ANNOUNCEMENT_JOB, app.announcer.drain, settings.announcement_drain_interval_seconds),
    ]
    stop_polling = app.sync.start_polling(settings.index_poll_interval_seconds)
    subscriptions = [app.follower.subscription(), CreatorErasure(partial(SqlMatchingUnitOfWork, engine)).subscription()]
    subscriptions += entitlements_subscriptions(settings.service_name, caps)
    return serve(
        runtime, app, [registration], jobs=jobs, run_jobs=run_jobs, on_stop=[stop_polling], subscriptions=subscriptions
    )

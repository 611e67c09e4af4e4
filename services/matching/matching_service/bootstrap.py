"""Wires the matching service: engine, migrations, index, page directory, auth, relay, jobs, server.

Every external resource is created here (never at import time), so tests build the same service
on their own schema and with their own page services by passing other settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from devinsider.matching.v1 import matching_pb2, matching_pb2_grpc
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
from devinsider_common.pages.ports import ClaimsDirectory, UserDirectory
from devinsider_common.pages.user_directory import user_directory
from devinsider_common.pagination import ListLimits
from matching_service.adapters.page_directory import GrpcPageDirectory
from matching_service.entrypoints.grpc_servicer import MatchingServicer
from matching_service.service_layer.announcer import Announcer
from matching_service.service_layer.app import MatchingApp
from matching_service.service_layer.common import MatchingConfig, UowFactory
from matching_service.service_layer.index_sync import IndexSync
from matching_service.service_layer.matches import MatchUseCases
from matching_service.service_layer.ports import PageDirectory
from matching_service.service_layer.profiles import ProfileUseCases
from matching_service.service_layer.social import SocialUseCases
from matching_service.service_layer.status_refresh import StatusRefresher
from matching_service.service_layer.taxonomy import TaxonomyUseCases
from matching_service.service_layer.unit_of_work import MatchingUnitOfWork
from matching_service.settings import MatchingSettings

MIGRATIONS = Path(__file__).parent / "migrations"
ANNOUNCEMENT_JOB = "matching-match-announcements"
SERVICE_NAME = matching_pb2.DESCRIPTOR.services_by_name["MatchingService"].full_name


@dataclass
class MatchingService:
    """A running matching service and what tests may want to reach inside it."""

    settings: MatchingSettings
    engine: Engine
    app: MatchingApp
    server: RunningServer
    stoppers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)
        self.engine.dispose()


def build_app(
    settings: MatchingSettings,
    engine: Engine,
    directory: PageDirectory,
    uow: UowFactory | None = None,
    users: UserDirectory | None = None,
) -> MatchingApp:
    """The use cases on `engine`; `uow` replaces the unit-of-work factory (tests inject failures)."""

    def default_uow() -> MatchingUnitOfWork:
        return MatchingUnitOfWork(engine)

    uow = uow or default_uow

    limits = ListLimits(settings.default_page_size, settings.max_page_size)
    config = MatchingConfig(
        weights=settings.weights(),
        significant_score=settings.significant_match_score,
        max_announcements=settings.max_match_announcements,
        check_blocked_ttl_seconds=settings.check_blocked_cache_ttl_seconds,
    )
    sync = IndexSync(uow, config.weights)
    announcer = Announcer(uow, utc_now, sync, config)
    return MatchingApp(
        config=config,
        taxonomy=TaxonomyUseCases(uow, limits),
        profiles=ProfileUseCases(uow, utc_now, directory, sync, announcer),
        matches=MatchUseCases(uow, directory, sync, config, limits),
        social=SocialUseCases(uow, utc_now, directory, limits, users or ClaimsDirectory()),
        sync=sync,
        announcer=announcer,
        refresher=StatusRefresher(uow, utc_now, directory, sync, announcer),
    )


def start(
    settings: MatchingSettings,
    verifier: TokenVerifier | None = None,
    guard: AccessGuard | None = None,
    directory: PageDirectory | None = None,
) -> MatchingService:
    """Migrate, load the index, then serve; the relay runs when AMQP_URL is set."""
    engine = create_service_engine(settings.effective_database_url, settings.schema_name)
    migrations.upgrade(engine, settings.schema_name, MIGRATIONS)
    cache = create_cache(settings)
    channels = ChannelFactory(token_provider=service_token_provider(settings.auth, settings.service_name))
    if directory is None:
        targets = {
            PageKind.COMPANY: settings.company_target,
            PageKind.INVESTOR: settings.investor_target,
            PageKind.PROGRAM: settings.program_target,
        }
        directory = GrpcPageDirectory(channels, targets, cache, settings.page_access_cache_ttl_seconds)
    if guard is None:
        token = service_token_provider(settings.auth, settings.service_name)
        guard = platform_access_guard(settings, channels, token, cache)
    app = build_app(settings, engine, directory, users=user_directory(guard))
    app.sync.catch_up()
    if verifier is None:
        jwt_verifier = JwtVerifier(settings.auth)
        jwt_verifier.prewarm()
        verifier = jwt_verifier
    registration = ServiceRegistration(
        SERVICE_NAME, matching_pb2_grpc.add_MatchingServiceServicer_to_server, MatchingServicer(app)
    )
    server = start_server(settings, [registration], verifier, guard, probe=lambda: ping(engine), engine=engine)
    server.on_stop.append(app.sync.start_polling(settings.index_poll_interval_seconds))
    refresh = Job("matching-page-status-refresh", app.refresher.run, settings.page_status_refresh_seconds)
    announcements = Job(ANNOUNCEMENT_JOB, app.announcer.drain, settings.announcement_drain_interval_seconds)
    server.on_stop.append(start_scheduler([refresh, announcements], create_lock_factory(settings)))
    server.on_stop.append(channels.close)
    relay = start_relay_thread(engine, settings.broker)
    if relay is not None:
        server.on_stop.append(relay.stop)
    return MatchingService(settings, engine, app, server)

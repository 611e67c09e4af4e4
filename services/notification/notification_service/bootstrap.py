"""Wires the notification service on the shared runtime: the use cases on a unit-of-work factory
(`build_app`, which the unit tests also call on the in-memory one), the consumers of the other services'
events, the digest and retention jobs, the server."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from devinsider.notification.v1 import notification_pb2, notification_pb2_grpc
from devinsider_common.auth.verifier import AccessGuard, TokenVerifier
from devinsider_common.clock import utc_now
from devinsider_common.grpc.server import ServiceRegistration
from devinsider_common.jobs import Job
from devinsider_common.pagination import ListLimits
from devinsider_common.runtime import RunningService, open_runtime, serve
from notification_service.adapters.event_reader import read_event
from notification_service.adapters.identity import GuardIdentity
from notification_service.entrypoints.grpc_servicer import NotificationServicer
from notification_service.service_layer.app import NotificationApp
from notification_service.service_layer.common import Clock, NotificationConfig, UowFactory
from notification_service.service_layer.consumers import EventConsumer
from notification_service.service_layer.jobs import DigestJob, RetentionJob
from notification_service.service_layer.notifications import NotificationUseCases
from notification_service.service_layer.ports import CallerIdentity
from notification_service.service_layer.preferences import PreferenceUseCases
from notification_service.service_layer.reactions import Reactions
from notification_service.service_layer.unit_of_work import SqlNotificationUnitOfWork
from notification_service.settings import NotificationSettings

MIGRATIONS = Path(__file__).parent / "migrations"
DIGEST_JOB = "notification-match-digest"
RETENTION_JOB = "notification-retention"
SERVICE_NAME = notification_pb2.DESCRIPTOR.services_by_name["NotificationService"].full_name

NotificationService = RunningService[NotificationSettings, NotificationApp]


def config_of(settings: NotificationSettings) -> NotificationConfig:
    return NotificationConfig(
        app_url=settings.app_url,
        digest_hour_utc=settings.digest_hour_utc,
        credits_low_threshold=settings.credits_low_threshold,
        retention_days=settings.notification_retention_days,
    )


def build_app(
    settings: NotificationSettings, uow: UowFactory, clock: Clock, identity: CallerIdentity
) -> NotificationApp:
    config = config_of(settings)
    return NotificationApp(
        config=config,
        notifications=NotificationUseCases(uow, clock, identity, ListLimits.from_settings(settings)),
        preferences=PreferenceUseCases(uow, clock, identity),
        consumer=EventConsumer(uow, clock, read_event, Reactions(config)),
        digests=DigestJob(uow, clock, config),
        retention=RetentionJob(uow, clock, config),
    )


def start(
    settings: NotificationSettings,
    verifier: TokenVerifier | None = None,
    *,
    guard: AccessGuard | None = None,
    clock: Clock = utc_now,
    run_jobs: bool = True,
) -> NotificationService:
    """Migrate, then serve; with AMQP_URL the relay runs and the `notification.*` queues are consumed."""
    runtime = open_runtime(settings, MIGRATIONS, verifier=verifier, guard=guard)
    uow = partial(SqlNotificationUnitOfWork, runtime.engine)
    app = build_app(settings, uow, clock, GuardIdentity(runtime.guard))
    add_servicer = notification_pb2_grpc.add_NotificationServiceServicer_to_server
    registration = ServiceRegistration(SERVICE_NAME, add_servicer, NotificationServicer(app))
    jobs = [Job(DIGEST_JOB, app.digests.run, settings.digest_job_interval_seconds)]
    if settings.notification_retention_days:
        jobs.append(Job(RETENTION_JOB, app.retention.run, settings.retention_job_interval_seconds))
    return serve(runtime, app, [registration], jobs=jobs, run_jobs=run_jobs, subscriptions=app.consumer.subscriptions())

"""Wires the user service: the shared runtime, its SQL unit of work, its use cases, its own access guard.

Every external resource is created here (never at import time), so tests build the same
service on their own schema, key prefix and vhost by passing other settings, and build the same
use cases on the in-memory unit of work with `build_app`.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.auth.service_identity import client_credentials_tokens
from devinsider_common.auth.verifier import AllowAll, TokenVerifier
from devinsider_common.clock import utc_now
from devinsider_common.grpc.server import ServiceRegistration
from devinsider_common.jobs import Job
from devinsider_common.pagination import ListLimits
from devinsider_common.rate_limits import RateLimit
from devinsider_common.runtime import RunningService, open_runtime, serve
from user_service.adapters.keycloak_admin import KeycloakAdminDirectory
from user_service.entrypoints.grpc_servicer import UserServicer
from user_service.entrypoints.reconciliation_job import reconciliation_job
from user_service.service_layer.app import UserApp
from user_service.service_layer.blacklist import BlacklistUseCases, CachedAccessGuard
from user_service.service_layer.keycloak_events import KeycloakWebhook
from user_service.service_layer.ports import Clock, KeycloakDirectory, UowFactory
from user_service.service_layer.reconciliation import KeycloakReconciliation
from user_service.service_layer.requests import RequestUseCases
from user_service.service_layer.unit_of_work import SqlUserUnitOfWork
from user_service.service_layer.users import UserUseCases
from user_service.settings import UserSettings

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = user_pb2.DESCRIPTOR.services_by_name["UserService"].full_name

UserService = RunningService[UserSettings, UserApp]


def build_app(
    settings: UserSettings,
    uow_factory: UowFactory,
    clock: Clock = utc_now,
    keycloak: KeycloakDirectory | None = None,
) -> UserApp:
    """The use cases; the reconciliation only with a Keycloak directory to reconcile with."""
    limits = ListLimits.from_settings(settings)
    users = UserUseCases(uow_factory, clock, limits)
    support_rate = RateLimit.per_seconds(
        settings.support_request_rate_limit, settings.support_request_rate_window_seconds
    )
    return UserApp(
        users=users,
        requests=RequestUseCases(uow_factory, clock, limits, users, support_rate),
        blacklist=BlacklistUseCases(uow_factory, clock, limits),
        keycloak=KeycloakWebhook(
            uow_factory,
            clock,
            settings.keycloak_webhook_secret,
            timedelta(seconds=settings.keycloak_webhook_max_age_seconds),
        ),
        reconciliation=None
        if keycloak is None
        else KeycloakReconciliation(uow_factory, clock, keycloak, settings.keycloak_reconcile_max_deletions),
    )


def keycloak_directory(settings: UserSettings) -> KeycloakAdminDirectory | None:
    """Keycloak's admin API with the service's client credentials; None when KEYCLOAK_ADMIN_URL is empty."""
    if not settings.keycloak_admin_url:
        return None
    auth = settings.auth
    open_token = partial(
        client_credentials_tokens, auth.token_url, auth.client_id, auth.client_secret, auth.jwks_timeout_seconds
    )
    return KeycloakAdminDirectory(
        settings.keycloak_admin_url,
        settings.keycloak_realm,
        open_token,
        settings.keycloak_reconcile_page_size,
        settings.keycloak_admin_timeout_seconds,
    )


def start(
    settings: UserSettings, verifier: TokenVerifier | None = None, *, clock: Clock = utc_now, run_jobs: bool = True
) -> UserService:
    """Migrate, then serve; the outbox relay runs when AMQP_URL is set, the reconciliation with Keycloak
    when KEYCLOAK_ADMIN_URL is (every interval, once across replicas, unless `run_jobs` is false).

    The service applies the access rule itself (its blacklist, cached for ACCESS_CACHE_TTL_SECONDS)
    instead of asking a user service: the guard needs the use cases, so it is set once they exist.
    """
    runtime = open_runtime(settings, MIGRATIONS, verifier=verifier, guard=AllowAll())
    engine = runtime.engine
    app = build_app(settings, partial(SqlUserUnitOfWork, engine), clock, keycloak_directory(settings))
    runtime.guard = CachedAccessGuard(app.blacklist, runtime.cache, settings.access_cache_ttl_seconds)
    registration = ServiceRegistration(SERVICE_NAME, user_pb2_grpc.add_UserServiceServicer_to_server, UserServicer(app))
    jobs: list[Job] = []
    if app.reconciliation is not None:
        jobs.append(reconciliation_job(app.reconciliation, settings.keycloak_reconcile_interval_seconds))
    return serve(runtime, app, [registration], jobs=jobs, run_jobs=run_jobs)

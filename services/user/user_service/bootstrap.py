"""Wires the user service: engine, migrations, use cases, auth, relay, gRPC server.

Every external resource is created here (never at import time), so tests build the same
service on their own schema, key prefix and vhost by passing other settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.verifier import TokenVerifier
from devinsider_common.cache import create_cache
from devinsider_common.clock import utc_now
from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine, ping
from devinsider_common.grpc.server import RunningServer, ServiceRegistration, start_server
from devinsider_common.outbox.relay import start_relay_thread
from devinsider_common.pagination import ListLimits
from devinsider_common.rate_limits import RateLimit
from user_service.entrypoints.grpc_servicer import UserServicer
from user_service.service_layer.app import UserApp
from user_service.service_layer.blacklist import BlacklistUseCases, CachedAccessGuard
from user_service.service_layer.keycloak_events import KeycloakWebhook
from user_service.service_layer.requests import RequestUseCases
from user_service.service_layer.unit_of_work import UserUnitOfWork
from user_service.service_layer.users import UserUseCases
from user_service.settings import UserSettings

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = user_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


@dataclass
class UserService:
    """A running user service and what tests may want to reach inside it."""

    settings: UserSettings
    engine: Engine
    app: UserApp
    server: RunningServer

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)
        self.engine.dispose()


def build_app(settings: UserSettings, engine: Engine) -> UserApp:
    def uow() -> UserUnitOfWork:
        return UserUnitOfWork(engine)

    limits = ListLimits(settings.default_page_size, settings.max_page_size)
    users = UserUseCases(uow, utc_now, limits)
    return UserApp(
        users=users,
        requests=RequestUseCases(
            uow,
            utc_now,
            limits,
            users,
            RateLimit.per_seconds(settings.support_request_rate_limit, settings.support_request_rate_window_seconds),
        ),
        blacklist=BlacklistUseCases(uow, utc_now, limits),
        keycloak=KeycloakWebhook(
            uow, utc_now, settings.keycloak_webhook_secret, timedelta(seconds=settings.keycloak_webhook_max_age_seconds)
        ),
    )


def start(settings: UserSettings, verifier: TokenVerifier | None = None) -> UserService:
    """Migrate, then serve; the outbox relay runs when AMQP_URL is set."""
    engine = create_service_engine(settings.effective_database_url, settings.schema_name)
    migrations.upgrade(engine, settings.schema_name, MIGRATIONS)
    app = build_app(settings, engine)
    if verifier is None:
        jwt_verifier = JwtVerifier(settings.auth)
        jwt_verifier.prewarm()
        verifier = jwt_verifier
    guard = CachedAccessGuard(app.blacklist, create_cache(settings), settings.access_cache_ttl_seconds)
    registration = ServiceRegistration(SERVICE_NAME, user_pb2_grpc.add_UserServiceServicer_to_server, UserServicer(app))
    server = start_server(settings, [registration], verifier, guard, probe=lambda: ping(engine), engine=engine)
    relay = start_relay_thread(engine, settings.broker)
    if relay is not None:
        server.on_stop.append(relay.stop)
    return UserService(settings, engine, app, server)

"""One way to open, serve and stop a service: the half of every bootstrap that is not its own.

A bootstrap does three things: `open_runtime` (engine and migrations, cache, channels, this
service's token, the access guard, the token verifier), its own `build_app` on that runtime, and
`serve` (gRPC server, event consumers, outbox relay, scheduled jobs), in one process or in WORKERS
processes (devinsider_common.workers). Stopping runs in one order everywhere: the server reports
NOT_SERVING and drains, then the consumers finish the message in hand, then the jobs stop, then the
relay, then the service's own hooks, then the channels close and the engine is disposed.

`main` of every service is `run_service(Settings, "devinsider-<name>-service", start)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy import Engine

from devinsider_common import tracing
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.service_identity import service_token_provider
from devinsider_common.auth.user_access import platform_access_guard
from devinsider_common.auth.verifier import AccessGuard, TokenVerifier
from devinsider_common.cache import Cache, create_cache
from devinsider_common.consumer.runner import ConsumerThread, Subscription, start_consumer_thread
from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine, ping
from devinsider_common.grpc.clients import ChannelFactory, TokenProvider
from devinsider_common.grpc.server import RunningServer, ServiceRegistration, serve_until_signal, start_server
from devinsider_common.jobs import Job, start_scheduler
from devinsider_common.locks import create_lock_factory
from devinsider_common.logging import configure_logging
from devinsider_common.outbox.relay import start_relay_thread
from devinsider_common.settings import ServiceSettings
from devinsider_common.startup import configure_tracing, load_settings
from devinsider_common.workers import Supervisor, runs_jobs_here, worker_count

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
AppT = TypeVar("AppT")


@dataclass
class Runtime(Generic[SettingsT]):
    """What a service opens before it builds its use cases."""

    settings: SettingsT
    engine: Engine  # migrated to the head of the service's revisions
    cache: Cache
    channels: ChannelFactory  # calls carry the caller's token (a request on behalf of a user)
    service_channels: ChannelFactory  # calls carry this service's own token
    service_token: TokenProvider
    guard: AccessGuard
    verifier: TokenVerifier

    def close(self) -> None:
        self.channels.close()
        self.service_channels.close()
        self.engine.dispose()


def open_engine(settings: ServiceSettings, migrations_dir: Path) -> Engine:
    """The service's engine, its schema migrated to the head of `migrations_dir` (a runtime's first step,
    and all that a one-off command on the service's database needs)."""
    engine = create_service_engine(
        settings.effective_database_url, settings.schema_name, settings.db_pool_size, settings.db_max_overflow
    )
    migrations.upgrade(engine, settings.schema_name, migrations_dir)
    tracing.instrument_engine(engine)  # a span per statement while tracing is on (after the migrations)
    return engine


def open_runtime(
    settings: SettingsT,
    migrations_dir: Path,
    *,
    verifier: TokenVerifier | None = None,
    guard: AccessGuard | None = None,
) -> Runtime[SettingsT]:
    """Migrate the service's schema and open what every service shares; tests pass their own
    `verifier` (dev tokens) or `guard`."""
    engine = open_engine(settings, migrations_dir)
    cache = create_cache(settings)
    service_token = service_token_provider(settings.auth, settings.service_name)
    channels = ChannelFactory()
    if guard is None:
        guard = platform_access_guard(settings, channels, service_token, cache)
    if verifier is None:
        jwt_verifier = JwtVerifier(settings.auth)
        jwt_verifier.prewarm()
        verifier = jwt_verifier
    return Runtime(
        settings=settings,
        engine=engine,
        cache=cache,
        channels=channels,
        service_channels=ChannelFactory(token_provider=service_token),
        service_token=service_token,
        guard=guard,
        verifier=verifier,
    )


@dataclass
class RunningService(Generic[SettingsT, AppT]):
    """A served service and what tests may reach inside it."""

    runtime: Runtime[SettingsT]
    app: AppT
    server: RunningServer
    jobs: list[Job] = field(default_factory=list)
    consumer: ConsumerThread | None = None  # with AMQP_URL and subscriptions

    def wait_until_consuming(self, timeout: float = 10.0) -> bool:
        """True once the consumer holds its connection and its queues exist (or there is no consumer)."""
        return self.consumer is None or self.consumer.consumer.connected.wait(timeout)

    @property
    def settings(self) -> SettingsT:
        return self.runtime.settings

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, grace: float | None = None) -> None:
        """Drain, then stop in the module's order (the server's stop hooks close the runtime)."""
        self.server.stop(grace)


def serve(
    runtime: Runtime[SettingsT],
    app: AppT,
    registrations: Sequence[ServiceRegistration],
    *,
    jobs: Sequence[Job] = (),
    run_jobs: bool = True,
    subscriptions: Sequence[Subscription] = (),
    on_stop: Sequence[Callable[[], None]] = (),
) -> RunningService[SettingsT, AppT]:
    """Serve `registrations` on the runtime; with AMQP_URL the outbox relay runs and `subscriptions`
    are consumed (in this process, competing with the other replicas: docs/decisions.md), `jobs` on
    their schedule (once across replicas) unless `run_jobs` is false; `on_stop` hooks run after
    the drain, before the channels and the engine close."""
    settings, engine = runtime.settings, runtime.engine
    server = start_server(
        settings, registrations, runtime.verifier, runtime.guard, probe=lambda: ping(engine), engine=engine
    )
    consumer = start_consumer_thread(settings.service_name, settings.broker, subscriptions)
    if consumer is not None:
        server.on_stop.append(consumer.stop)
    if run_jobs and jobs and runs_jobs_here():
        server.on_stop.append(start_scheduler(list(jobs), create_lock_factory(settings)))
    relay = start_relay_thread(engine, settings.broker)
    if relay is not None:
        server.on_stop.append(relay.stop)
    server.on_stop.extend(on_stop)
    server.on_stop.append(runtime.close)
    return RunningService(runtime, app, server, list(jobs), consumer)


def run_service(
    factory: Callable[[], SettingsT], process: str, start: Callable[[SettingsT], RunningService[SettingsT, AppT]]
) -> None:
    """A service's `main`: settings (or a one-line refusal), logging, tracing (OTEL_*, off by default), serve
    until SIGTERM: in this process, or in WORKERS processes under this one (devinsider_common.workers),
    each with its own tracer provider."""
    settings = load_settings(factory, process)
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    count = worker_count(settings)
    if count > 1:
        raise SystemExit(Supervisor(settings, factory, process, start, count).run())
    configure_tracing(settings.service_name, process)
    try:
        service = start(settings)
        serve_until_signal(service.server)
    finally:
        tracing.shutdown()  # the spans still batched are exported

"""Wires the contact service on the shared runtime: use cases on a unit-of-work factory (`build_app`,
which tests also call on the in-memory one), its neighbours (page services, matching, user service, billing's
entitlements), the consumers of billing's unlocks (`contact.unlocks`, the shared UnlockProjector) and of its
EntitlementsChanged (`contact.entitlements`), and the server."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path

from contact_service.adapters.neighbours import connect_neighbours
from contact_service.entrypoints.grpc_servicer import ContactServicer
from contact_service.service_layer.app import ContactApp
from contact_service.service_layer.common import Clock, UowFactory
from contact_service.service_layer.conversations import ConversationUseCases
from contact_service.service_layer.ports import PageDirectory
from contact_service.service_layer.requests import ContactPersons, ContactRequestUseCases
from contact_service.service_layer.unit_of_work import SqlContactUnitOfWork
from contact_service.service_layer.unlocks import UnlockUseCases
from contact_service.settings import ContactSettings
from devinsider.contact.v1 import contact_pb2, contact_pb2_grpc
from devinsider_common.auth.verifier import AccessGuard, TokenVerifier
from devinsider_common.clock import utc_now
from devinsider_common.entitlements import EntitlementsSource, connect_entitlements, entitlements_subscriptions
from devinsider_common.grpc.server import ServiceRegistration
from devinsider_common.pages.authorization import BlockList, PageAccess, PageAuthorizer
from devinsider_common.pages.ports import UserDirectory, UserLookup
from devinsider_common.pages.unlocks import UnlockProjector
from devinsider_common.pages.user_directory import user_directory, user_lookup
from devinsider_common.pagination import ListLimits
from devinsider_common.rate_limits import RateLimit
from devinsider_common.runtime import RunningService, open_runtime, serve

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = contact_pb2.DESCRIPTOR.services_by_name["ContactService"].full_name

ContactService = RunningService[ContactSettings, ContactApp]


def build_app(
    settings: ContactSettings,
    uow: UowFactory,
    clock: Clock,
    access: PageAccess,
    blocks: BlockList,
    pages: PageDirectory,
    lookup: UserLookup,
    users: UserDirectory | None = None,
    entitlements: EntitlementsSource | None = None,
) -> ContactApp:
    """The use cases on the unit-of-work factory `uow` (SQL in `start`, in memory in the unit tests)."""
    limits = ListLimits.from_settings(settings)
    auth = PageAuthorizer(access, users)
    rate = RateLimit.per_seconds(settings.contact_request_rate_limit, settings.contact_request_rate_window_seconds)
    cooldown = timedelta(days=settings.contact_request_decline_cooldown_days)
    persons = ContactPersons(auth, lookup)
    return ContactApp(
        requests=ContactRequestUseCases(uow, clock, auth, blocks, pages, persons, limits, rate, cooldown, entitlements),
        conversations=ConversationUseCases(uow, clock, auth, blocks, limits),
        unlocks=UnlockUseCases(uow, auth, limits),
    )


def start(
    settings: ContactSettings,
    verifier: TokenVerifier | None = None,
    *,
    guard: AccessGuard | None = None,
    clock: Clock = utc_now,
) -> ContactService:
    """Migrate, then serve; with AMQP_URL the outbox relay and the unlock projection's consumer run."""
    runtime = open_runtime(settings, MIGRATIONS, verifier=verifier, guard=guard)
    access, blocks, pages = connect_neighbours(settings, runtime.service_channels, runtime.cache)
    uow = partial(SqlContactUnitOfWork, runtime.engine)
    lookup = user_lookup(settings, runtime.service_channels)
    entitlements = connect_entitlements(settings, runtime.service_channels, runtime.cache)
    app = build_app(settings, uow, clock, access, blocks, pages, lookup, user_directory(runtime.guard), entitlements)
    add_servicer = contact_pb2_grpc.add_ContactServiceServicer_to_server
    registration = ServiceRegistration(SERVICE_NAME, add_servicer, ContactServicer(app))
    projector = UnlockProjector("contact", None, uow)
    subscriptions = [projector.subscription(), *entitlements_subscriptions(settings.service_name, entitlements)]
    return serve(runtime, app, [registration], subscriptions=subscriptions)

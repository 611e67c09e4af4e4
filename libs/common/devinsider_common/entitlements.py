"""What a page's plan entitles it to, as billing states it (GetEntitlements, asked with the calling service's
own identity), for the service that owns each feature to enforce: matching the match results shown, contact
the contact requests a month, the page services their seats and directory filters.

Staleness: the whole answer is cached per page for ENTITLEMENTS_CACHE_TTL_SECONDS in the service's cache (Redis
when configured: one copy for every replica), and the service's `<service>.entitlements` queue drops a page's
entry when billing publishes `EntitlementsChanged` for it. A plan bought, changed or ended is enforced once that
event is consumed, and at most a TTL later if it is late or lost.

Billing unreachable (down, failing, slower than TIMEOUT_SECONDS): the page's last known answer (kept a day)
holds; with none, `WHEN_UNREACHABLE`, which restricts nothing. These are commercial limits, not security: an
outage of billing must not stop pages from working, and a page gains at most what a plan would sell it for the
outage's length. The fallback is cached for the TTL too, so an outage costs one short call per page and window.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Protocol

import grpc
import structlog
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider.billing.v1.events_pb2 import EntitlementsChanged
from devinsider_common import errors
from devinsider_common.cache import Cache
from devinsider_common.consumer import ConsumerQueue, Delivery, Subscription
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.outbox.envelope import event_type_of
from devinsider_common.outbox.topology import BILLING, Binding, direct_routing_key
from devinsider_common.pages.names import PageName, parse_page

log = structlog.get_logger("devinsider.entitlements")
ENTITY, LAST_KNOWN = "entitlements", "entitlements-last"
LAST_KNOWN_SECONDS = 86_400.0
TIMEOUT_SECONDS = 1.0  # a request waits no longer than this for billing; then the fallback holds
GET_ENTITLEMENTS = "/devinsider.billing.v1.BillingService/GetEntitlements"
UPGRADE_HINT = "a plan that includes more lifts it (GET /v1/plans, then a checkout)"


@dataclass(frozen=True)
class Entitlements:
    """The entitlements other services enforce (billing's `Entitlements` without the credits it grants)."""

    match_results_visible: int = 0  # 0: every match
    directory_filters: bool = False
    contact_requests_per_month: int = 0  # 0: no limit
    seats: int = 0  # 0: no limit


# What holds while billing cannot be asked and never answered for the page (see the module's docstring):
WHEN_UNREACHABLE = Entitlements(
    match_results_visible=0,  # a read cap: every match shows
    directory_filters=True,  # a search narrowed by criteria reveals nothing a plain search does not
    contact_requests_per_month=0,  # the contact service's own per-day rate limit still holds
    seats=0,  # invitations go out; members are never removed by a cap anyway
)


class EntitlementsSource(Protocol):
    """A page's entitlements (its plan's, or the free tier's)."""

    def of(self, page: PageName) -> Entitlements: ...


class Unrestricted:
    """The source of a service run without billing (BILLING_TARGET empty): nothing is limited."""

    def of(self, page: PageName) -> Entitlements:
        return WHEN_UNREACHABLE


class BillingEntitlements:
    def __init__(self, get: Callable[..., billing_pb2.PageEntitlements], cache: Cache, ttl: float) -> None:
        self._get = get
        self._cache = cache
        self._ttl = ttl

    def of(self, page: PageName) -> Entitlements:
        cached = self._cache.get(ENTITY, page.name)
        if cached is not None:
            return _decode(cached)
        try:
            answer = self._get(
                billing_pb2.GetEntitlementsRequest(name=f"{page.name}/entitlements"), timeout=TIMEOUT_SECONDS
            )
            stated = answer.entitlements
            found = Entitlements(
                max(0, stated.match_results_visible),
                stated.directory_filters,
                max(0, stated.contact_requests_per_month),
                max(0, stated.seats),
            )
            self._cache.set(LAST_KNOWN, page.name, _encode(found), LAST_KNOWN_SECONDS)
        except grpc.RpcError as error:
            last = self._cache.get(LAST_KNOWN, page.name)
            found = _decode(last) if last is not None else WHEN_UNREACHABLE
            log.warning("entitlements.unavailable", page=page.name, code=error.code().name, last_known=last is not None)
        self._cache.set(ENTITY, page.name, _encode(found), self._ttl)
        return found

    def forget(self, page: PageName) -> None:
        """Drop the page's cached answer (its plan changed): the next check asks billing."""
        self._cache.delete(ENTITY, page.name)


def _encode(entitlements: Entitlements) -> str:
    return json.dumps(asdict(entitlements))


def _decode(stored: bytes) -> Entitlements:
    return Entitlements(**json.loads(stored))


def billing_entitlements(channels: ChannelFactory, target: str, cache: Cache, ttl: float) -> BillingEntitlements:
    """The client on billing at `target`; `channels` carry the service's own identity (GetEntitlements of any
    page is allowed to services)."""
    stub = channels.stub(target, billing_pb2_grpc.BillingServiceStub, idempotent_methods=[GET_ENTITLEMENTS])
    return BillingEntitlements(stub.GetEntitlements, cache, ttl)


class EntitlementsInvalidation:
    """The handler of `<service>.entitlements`: billing's events (its direct exchange routes every one to each
    bound queue); an `EntitlementsChanged` drops the page's cached answer, the others are acknowledged without
    effect. Dropping twice changes nothing, so there is no inbox to write."""

    def __init__(self, service: str, entitlements: BillingEntitlements) -> None:
        name = f"{service}.entitlements"
        self.queue = ConsumerQueue(name, (Binding(BILLING, name, direct_routing_key(BILLING)),))
        self._entitlements = entitlements

    def subscription(self) -> Subscription:
        return Subscription(self.queue, self)

    def __call__(self, delivery: Delivery) -> bool:
        if delivery.event_type != event_type_of(EntitlementsChanged()):
            return False
        event = delivery.payload(EntitlementsChanged)
        try:
            page = parse_page(event.page.name, "page.name")
        except errors.InvalidArgument:
            log.warning("entitlements.changed_unreadable", page=event.page.name, message_id=delivery.message_id)
            return False
        self._entitlements.forget(page)
        log.info("entitlements.forgotten", page=page.name)
        return True


def entitlements_subscriptions(service: str, source: EntitlementsSource) -> list[Subscription]:
    """The invalidation consumer of a service's billing client (none for a service run without billing)."""
    if isinstance(source, BillingEntitlements):
        return [EntitlementsInvalidation(service, source).subscription()]
    return []


def plan_limit_reached(
    entitlement: str, page: PageName, limit: int, message: str, reason: str, retry_after: timedelta | None = None
) -> errors.ResourceExhausted:
    """RESOURCE_EXHAUSTED for a count a plan caps (`entitlement`, e.g. `seats`): ErrorInfo metadata and a
    QuotaFailure violation name the entitlement, the page and its limit, and say an upgrade lifts it."""
    description = f"{page.name} may have {limit} {entitlement.replace('_', ' ')}; {UPGRADE_HINT}"
    return errors.ResourceExhausted(
        f"{message} ({description})",
        reason=reason,
        metadata={"entitlement": entitlement, "page": page.name, "limit": str(limit), "upgrade": UPGRADE_HINT},
        retry_after_seconds=retry_after.total_seconds() if retry_after is not None else None,
        quota_violations=[errors.QuotaViolation(f"{page.name}/entitlements#{entitlement}", description)],
    )


class EntitlementSettings(BaseSettings):
    """The settings of a service that enforces entitlements (mixed into its settings class)."""

    model_config = SettingsConfigDict(extra="ignore")

    # Billing, asked for each page's entitlements; empty: nothing is limited (the service run alone).
    billing_target: str = "127.0.0.1:50056"
    # How long a page's answer is reused, unless billing's EntitlementsChanged for it arrives first.
    entitlements_cache_ttl_seconds: float = Field(default=30.0, ge=0)


def connect_entitlements(settings: EntitlementSettings, channels: ChannelFactory, cache: Cache) -> EntitlementsSource:
    """The service's source: billing at BILLING_TARGET (cached in `cache`), or none when it is empty."""
    if not settings.billing_target:
        return Unrestricted()
    return billing_entitlements(channels, settings.billing_target, cache, settings.entitlements_cache_ttl_seconds)

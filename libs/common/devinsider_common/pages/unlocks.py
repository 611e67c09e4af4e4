"""Whether a viewer's organisation unlocked a page's contact details: billing's HasUnlocked, asked
by the page services (company, investor) to decide what a viewer of one of their pages sees.

The call carries the page service's own identity (HasUnlocked is service-only), never the viewer's
token. Only a "yes" is cached (for the TTL billing returns, bounded by ours): an unlock is permanent,
while a cached "no" would hide the contacts a viewer has just paid for. When billing cannot be
reached the viewer gets the public view (fail closed) and a warning is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import grpc
import structlog

from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.cache import Cache
from devinsider_common.grpc.clients import ChannelFactory

log = structlog.get_logger("devinsider.unlocks")

HAS_UNLOCKED = "/devinsider.billing.v1.BillingService/HasUnlocked"
# Cache entity of the "yes" answers, keyed `{target}|{subject}` (the same answer whoever asks).
CACHE_ENTITY = "unlocked"

HasUnlockedMethod = Callable[..., billing_pb2.HasUnlockedResponse]


class UnlockChecker(Protocol):
    """Whether an organisation the viewer belongs to unlocked a page's contact details."""

    def has_unlocked(self, target: str, subject: str) -> bool:
        """`target` is the page (`companies/{id}`, `investors/{id}`); `subject` the viewer's Keycloak subject."""
        ...


class NoUnlocks:
    """While no billing service is configured: nobody unlocked anything."""

    def has_unlocked(self, target: str, subject: str) -> bool:
        return False


class BillingUnlockChecker:
    def __init__(
        self,
        has_unlocked: HasUnlockedMethod,
        service_token: Callable[[], str],
        cache: Cache,
        ttl_seconds: float = 30.0,
        timeout_seconds: float = 2.0,
    ) -> None:
        self._call = has_unlocked
        self._service_token = service_token
        self._cache = cache
        self._ttl = ttl_seconds
        self._timeout = timeout_seconds

    def has_unlocked(self, target: str, subject: str) -> bool:
        key = f"{target}|{subject}"
        if self._cache.get(CACHE_ENTITY, key) is not None:
            return True
        request = billing_pb2.HasUnlockedRequest(target=target, subject=subject)
        metadata = (("authorization", f"Bearer {self._service_token()}"),)
        try:
            answer = self._call(request, metadata=metadata, timeout=self._timeout)
        except grpc.RpcError as error:
            log.warning("unlock.check_failed", target=target, code=error.code().name)
            return False
        ttl = min(self._ttl, answer.cache_ttl_seconds or self._ttl)
        if answer.unlocked and ttl > 0:
            self._cache.set(CACHE_ENTITY, key, b"1", ttl)
        return bool(answer.unlocked)


def unlock_checker(
    channels: ChannelFactory, billing_target: str, service_token: Callable[[], str], cache: Cache, ttl_seconds: float
) -> UnlockChecker:
    """Billing's answers when `billing_target` is set (BILLING_TARGET), nobody unlocked anything otherwise."""
    if not billing_target:
        return NoUnlocks()
    stub = channels.stub(billing_target, billing_pb2_grpc.BillingServiceStub, idempotent_methods=[HAS_UNLOCKED])
    return BillingUnlockChecker(stub.HasUnlocked, service_token, cache, ttl_seconds)

"""Entitlements over billing's GetEntitlements, called with matching's own service identity.

Answers are cached for `ttl` seconds in the shared cache (Redis when configured): the bound on how long a
plan bought, changed or ended takes to change a page's match lists. Billing being unreachable must not make
matching unusable, so this fails open: the page's last known cap (kept a day) if there is one, else no cap;
that fallback is cached for `ttl` too, so an outage costs one short call per page and window, not one a list.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
import structlog

from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.cache import Cache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageName

log = structlog.get_logger("matching.entitlements")
ENTITY, LAST_KNOWN = "match-cap", "match-cap-last"
LAST_KNOWN_SECONDS = 86_400.0
TIMEOUT_SECONDS = 1.0  # a list waits no longer than this for billing; then it fails open
GET_ENTITLEMENTS = "/devinsider.billing.v1.BillingService/GetEntitlements"


class BillingEntitlements:
    def __init__(self, get: Callable[..., billing_pb2.PageEntitlements], cache: Cache, ttl: float) -> None:
        self._get = get
        self._cache = cache
        self._ttl = ttl

    def match_cap(self, page: PageName) -> int:
        cached = self._cache.get(ENTITY, page.name)
        if cached is not None:
            return int(cached)
        try:
            answer = self._get(
                billing_pb2.GetEntitlementsRequest(name=f"{page.name}/entitlements"), timeout=TIMEOUT_SECONDS
            )
            cap = max(0, answer.entitlements.match_results_visible)
            self._cache.set(LAST_KNOWN, page.name, str(cap), LAST_KNOWN_SECONDS)
        except grpc.RpcError as error:
            last = self._cache.get(LAST_KNOWN, page.name)
            cap = int(last) if last is not None else 0
            log.warning("entitlements.unavailable", page=page.name, code=error.code().name, cap=cap)
        self._cache.set(ENTITY, page.name, str(cap), self._ttl)
        return cap


def billing_entitlements(channels: ChannelFactory, target: str, cache: Cache, ttl: float) -> BillingEntitlements:
    stub = channels.stub(target, billing_pb2_grpc.BillingServiceStub, idempotent_methods=[GET_ENTITLEMENTS])
    return BillingEntitlements(stub.GetEntitlements, cache, ttl)

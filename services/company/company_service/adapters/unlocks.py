"""Asking the billing service whether a viewer's organisation unlocked a company (HasUnlocked).

The call is made with the company service's own identity (HasUnlocked is service-only), never
with the viewer's token. A "yes" is cached for the TTL billing returns (bounded by ours): an unlock
is permanent. A "no" is cached only briefly (`negative_ttl_seconds`), so that a viewer who has just
unlocked the page sees its contacts at once rather than after the long TTL. When billing cannot be
reached the viewer gets the public view (fail closed) and a warning is logged.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
import structlog

from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.cache import Cache

log = structlog.get_logger("company.unlocks")


class BillingUnlockChecker:
    def __init__(
        self,
        stub: billing_pb2_grpc.BillingServiceStub,
        service_token: Callable[[], str],
        cache: Cache,
        ttl_seconds: float = 30.0,
        timeout_seconds: float = 2.0,
        negative_ttl_seconds: float = 1.0,
    ) -> None:
        self._stub = stub
        self._service_token = service_token
        self._cache = cache
        self._ttl = ttl_seconds
        self._timeout = timeout_seconds
        self._negative_ttl = negative_ttl_seconds

    def has_unlocked(self, target: str, subject: str) -> bool:
        key = f"{target}|{subject}"
        cached = self._cache.get("company_unlock", key)
        if cached is not None:
            return cached == b"1"
        request = billing_pb2.HasUnlockedRequest(target=target, subject=subject)
        metadata = (("authorization", f"Bearer {self._service_token()}"),)
        try:
            answer = self._stub.HasUnlocked(request, metadata=metadata, timeout=self._timeout)
        except grpc.RpcError as error:
            log.warning("unlock.check_failed", target=target, code=error.code().name)
            return False
        ttl = min(self._ttl, answer.cache_ttl_seconds or self._ttl)
        if not answer.unlocked:
            ttl = min(ttl, self._negative_ttl)
        if ttl > 0:
            self._cache.set("company_unlock", key, b"1" if answer.unlocked else b"0", ttl)
        return bool(answer.unlocked)

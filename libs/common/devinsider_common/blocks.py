"""Whether two organisation pages blocked each other, asked of the matching service (CheckBlocked, a
service-only RPC: call it over channels that carry the caller's own service identity).

One client for every service that refuses blocked pairs (billing before an unlock, contact before a
request or a message): answers cached briefly under `blocked:<page>|<page>` (the two names sorted, so
either order shares the entry), retried on UNAVAILABLE since it only reads, failing closed (UNAVAILABLE)
when matching cannot be reached.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from devinsider.matching.v1 import matching_pb2, matching_pb2_grpc
from devinsider_common import errors
from devinsider_common.cache import Cache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageName

CHECK_BLOCKED = "/devinsider.matching.v1.MatchingService/CheckBlocked"


class GrpcBlockList:
    """`is_blocked` over the matching service's CheckBlocked; fails closed (UNAVAILABLE) when it is down."""

    def __init__(self, check: Callable[..., matching_pb2.CheckBlockedResponse], cache: Cache, ttl: float) -> None:
        self._check = check
        self._cache = cache
        self._ttl = ttl

    def is_blocked(self, a: PageName, b: PageName) -> bool:
        """Whether either page blocked the other."""
        key = "|".join(sorted((a.name, b.name)))
        cached = self._cache.get("blocked", key)
        if cached is not None:
            return cached == b"1"
        try:
            answer = self._check(matching_pb2.CheckBlockedRequest(page_a=a.name, page_b=b.name))
        except grpc.RpcError as error:
            raise errors.Unavailable(
                f"cannot check blocks between {a.name} and {b.name}: {error.code().name}"
            ) from error
        ttl = min(self._ttl, answer.cache_ttl_seconds or self._ttl)
        self._cache.set("blocked", key, "1" if answer.blocked else "0", ttl)
        return bool(answer.blocked)


def block_list(channels: ChannelFactory, target: str, cache: Cache, ttl: float) -> GrpcBlockList:
    """The block list of the matching service at `target` (`channels`: the service's own identity)."""
    stub = channels.stub(target, matching_pb2_grpc.MatchingServiceStub, idempotent_methods=[CHECK_BLOCKED])
    return GrpcBlockList(stub.CheckBlocked, cache, ttl)

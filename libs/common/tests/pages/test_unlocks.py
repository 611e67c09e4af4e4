"""The page services' question to billing (HasUnlocked): a yes is kept, a no never, failures fail closed."""

from __future__ import annotations

from typing import Any

import grpc

from devinsider.billing.v1 import billing_pb2
from devinsider_common.cache import InMemoryCache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.unlocks import BillingUnlockChecker, NoUnlocks, unlock_checker

PAGE = "investors/i1"


class FakeHasUnlocked:
    """Billing's HasUnlocked: the (target, subject) pairs unlocked, and every call it received."""

    def __init__(self, cache_ttl_seconds: int = 60) -> None:
        self.unlocked: set[tuple[str, str]] = set()
        self.calls: list[tuple[str, str, dict[str, str], float]] = []
        self.cache_ttl_seconds = cache_ttl_seconds

    def __call__(
        self, request: billing_pb2.HasUnlockedRequest, *, metadata: Any, timeout: float
    ) -> billing_pb2.HasUnlockedResponse:
        self.calls.append((request.target, request.subject, dict(metadata), timeout))
        unlocked = (request.target, request.subject) in self.unlocked
        return billing_pb2.HasUnlockedResponse(unlocked=unlocked, cache_ttl_seconds=self.cache_ttl_seconds)


class Unreachable(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


def test_the_question_carries_the_service_token_and_a_yes_is_reused() -> None:
    billing = FakeHasUnlocked()
    billing.unlocked.add((PAGE, "kc-isv"))
    checker = BillingUnlockChecker(billing, lambda: "service-token", InMemoryCache(), ttl_seconds=30)
    assert checker.has_unlocked(PAGE, "kc-isv")
    assert checker.has_unlocked(PAGE, "kc-isv")  # from the cache: unlocks are permanent
    assert billing.calls == [(PAGE, "kc-isv", {"authorization": "Bearer service-token"}, 2.0)]


def test_a_no_is_never_reused_so_a_fresh_unlock_shows_at_once() -> None:
    billing = FakeHasUnlocked()
    checker = BillingUnlockChecker(billing, lambda: "t", InMemoryCache(), ttl_seconds=30)
    assert not checker.has_unlocked(PAGE, "kc-isv")
    billing.unlocked.add((PAGE, "kc-isv"))  # the organisation pays right after a first look
    assert checker.has_unlocked(PAGE, "kc-isv")
    assert len(billing.calls) == 2


def test_a_yes_is_kept_no_longer_than_billing_allows() -> None:
    billing = FakeHasUnlocked(cache_ttl_seconds=0)  # 0: billing sets no bound, ours applies
    billing.unlocked.add((PAGE, "kc-isv"))
    uncached = BillingUnlockChecker(billing, lambda: "t", InMemoryCache(), ttl_seconds=0)
    assert uncached.has_unlocked(PAGE, "kc-isv") and uncached.has_unlocked(PAGE, "kc-isv")
    assert len(billing.calls) == 2


def test_billing_unreachable_means_the_public_view_and_nothing_is_kept() -> None:
    answers: list[bool] = []

    def down(request: billing_pb2.HasUnlockedRequest, **_: Any) -> billing_pb2.HasUnlockedResponse:
        answers.append(False)
        raise Unreachable()

    checker = BillingUnlockChecker(down, lambda: "t", InMemoryCache())
    assert not checker.has_unlocked(PAGE, "kc-isv")
    assert not checker.has_unlocked(PAGE, "kc-isv")
    assert len(answers) == 2


def test_without_a_billing_target_nobody_unlocked_anything() -> None:
    channels = ChannelFactory()
    try:
        assert isinstance(unlock_checker(channels, "", lambda: "t", InMemoryCache(), 30), NoUnlocks)
        assert isinstance(
            unlock_checker(channels, "127.0.0.1:1", lambda: "t", InMemoryCache(), 30), BillingUnlockChecker
        )
    finally:
        channels.close()

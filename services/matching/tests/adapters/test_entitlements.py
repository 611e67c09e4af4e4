"""Match caps from billing's GetEntitlements: asked once a cache window, failing open on an outage (the last
known cap, else none), the fallback cached like an answer; and over gRPC with matching's own identity."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from devinsider.billing.v1 import billing_pb2
from devinsider_common.cache import InMemoryCache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageKind, PageName
from matching_service.adapters.entitlements import TIMEOUT_SECONDS, BillingEntitlements, billing_entitlements

from ..conftest import billing_handler

ACME = PageName(PageKind.COMPANY, "acme")


class Down(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


class Billing:
    """A GetEntitlements callable: the cap it answers, or an outage; the requests and timeouts it got."""

    def __init__(self) -> None:
        self.cap = 10
        self.down = False
        self.calls: list[tuple[str, float]] = []

    def __call__(self, request: billing_pb2.GetEntitlementsRequest, timeout: float) -> billing_pb2.PageEntitlements:
        self.calls.append((request.name, timeout))
        if self.down:
            raise Down()
        return billing_pb2.PageEntitlements(
            name=request.name, entitlements=billing_pb2.Entitlements(match_results_visible=self.cap)
        )


def test_a_cap_is_asked_once_a_window_and_fails_open() -> None:
    billing, cache = Billing(), InMemoryCache()
    caps = BillingEntitlements(billing, cache, ttl=30)
    assert caps.match_cap(ACME) == 10 and caps.match_cap(ACME) == 10
    assert billing.calls == [("companies/acme/entitlements", TIMEOUT_SECONDS)]  # cached; a short deadline

    # Billing goes down once the window is over: the last known cap holds (a free page stays capped).
    fresh = BillingEntitlements(billing, cache, ttl=0)
    billing.cap, billing.down = 0, True
    cache.delete("match-cap", ACME.name)
    assert fresh.match_cap(ACME) == 10
    # A page never seen falls open: every match shows rather than an error.
    other = PageName(PageKind.PROGRAM, "p1")
    assert fresh.match_cap(other) == 0
    # Back up: the new answer replaces the last known one.
    billing.down = False
    time.sleep(0.01)  # the fallback was cached for the (zero) window only
    assert fresh.match_cap(ACME) == 0


def test_an_outage_costs_one_call_a_window_per_page() -> None:
    billing, cache = Billing(), InMemoryCache()
    billing.down = True
    caps = BillingEntitlements(billing, cache, ttl=30)
    assert [caps.match_cap(ACME) for _ in range(3)] == [0, 0, 0]
    assert len(billing.calls) == 1


@pytest.fixture
def billing_server() -> Iterator[tuple[str, list[Any]]]:
    seen: list[Any] = []
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers([billing_handler({"companies/acme": 3}, seen)])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", seen
    server.stop(grace=0)


def test_over_grpc_with_the_services_own_token(billing_server: tuple[str, list[Any]]) -> None:
    target, seen = billing_server
    channels = ChannelFactory(token_provider=lambda: "service-token")
    try:
        caps = billing_entitlements(channels, target, InMemoryCache(), ttl=30)
        assert caps.match_cap(ACME) == 3 and caps.match_cap(PageName(PageKind.INVESTOR, "vc")) == 0
    finally:
        channels.close()
    assert [(name, auth) for name, auth in seen] == [
        ("companies/acme/entitlements", "Bearer service-token"),
        ("investors/vc/entitlements", "Bearer service-token"),
    ]

"""The shared entitlements client: billing's answer asked once a cache window, the fallback on an outage (the
last known answer, else nothing restricted) cached like an answer, dropped by billing's EntitlementsChanged;
over gRPC with the service's own identity; the plan-limit error as a client sees it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2

from devinsider.billing.v1 import billing_pb2, events_pb2
from devinsider.common.v1 import page_pb2
from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.cache import InMemoryCache
from devinsider_common.consumer import Delivery
from devinsider_common.entitlements import (
    TIMEOUT_SECONDS,
    WHEN_UNREACHABLE,
    BillingEntitlements,
    Entitlements,
    EntitlementSettings,
    Unrestricted,
    billing_entitlements,
    connect_entitlements,
    entitlements_subscriptions,
    plan_limit_reached,
)
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.grpc.status import to_status_proto
from devinsider_common.outbox.envelope import build_envelope
from devinsider_common.outbox.topology import BILLING
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.testing.entitlements import billing_handler

ACME = PageName(PageKind.COMPANY, "acme")
FREE = Entitlements(match_results_visible=10, contact_requests_per_month=5, seats=3)
PAID = Entitlements(match_results_visible=0, directory_filters=True, contact_requests_per_month=20, seats=5)


class Down(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


class Billing:
    """A GetEntitlements callable: the entitlements it answers, or an outage; the requests and timeouts it got."""

    def __init__(self) -> None:
        self.answer = FREE
        self.down = False
        self.calls: list[tuple[str, float]] = []

    def __call__(self, request: billing_pb2.GetEntitlementsRequest, timeout: float) -> billing_pb2.PageEntitlements:
        self.calls.append((request.name, timeout))
        if self.down:
            raise Down()
        stated = billing_pb2.Entitlements(
            monthly_credits=10,
            match_results_visible=self.answer.match_results_visible,
            directory_filters=self.answer.directory_filters,
            contact_requests_per_month=self.answer.contact_requests_per_month,
            seats=self.answer.seats,
        )
        return billing_pb2.PageEntitlements(name=request.name, entitlements=stated)


def test_the_whole_answer_is_asked_once_a_window() -> None:
    billing = Billing()
    source = BillingEntitlements(billing, InMemoryCache(), ttl=30)
    assert source.of(ACME) == FREE and source.of(ACME) == FREE
    assert billing.calls == [("companies/acme/entitlements", TIMEOUT_SECONDS)]  # cached; a short deadline
    billing.answer = PAID
    assert source.of(ACME) == FREE  # stale until the window ends, or until the event below


def test_an_outage_falls_back_to_the_last_known_answer_else_to_nothing_restricted() -> None:
    billing, cache = Billing(), InMemoryCache()
    fresh = BillingEntitlements(billing, cache, ttl=0)
    assert fresh.of(ACME) == FREE
    billing.answer, billing.down = PAID, True
    time.sleep(0.01)
    assert fresh.of(ACME) == FREE  # a free page stays limited through an outage
    # A page never seen: nothing restricted rather than an error (each entitlement's WHEN_UNREACHABLE).
    other = PageName(PageKind.PROGRAM, "p1")
    assert fresh.of(other) == WHEN_UNREACHABLE
    assert (WHEN_UNREACHABLE.seats, WHEN_UNREACHABLE.contact_requests_per_month) == (0, 0)
    assert (WHEN_UNREACHABLE.match_results_visible, WHEN_UNREACHABLE.directory_filters) == (0, True)
    # Back up: the new answer replaces the last known one.
    billing.down = False
    time.sleep(0.01)  # the fallback was cached for the (zero) window only
    assert fresh.of(ACME) == PAID


def test_an_outage_costs_one_call_a_window_per_page() -> None:
    billing = Billing()
    billing.down = True
    source = BillingEntitlements(billing, InMemoryCache(), ttl=30)
    assert [source.of(ACME) for _ in range(3)] == [WHEN_UNREACHABLE] * 3
    assert len(billing.calls) == 1


def changed(page: str) -> Delivery:
    event = events_pb2.EntitlementsChanged(page=page_pb2.PageRef(kind=page_pb2.PAGE_KIND_COMPANY, name=page))
    return Delivery("company.entitlements", "m1", build_envelope(event, source="billing", external_id=page), 1)


def test_entitlements_changed_drops_the_pages_answer_and_nothing_else() -> None:
    billing = Billing()
    source = BillingEntitlements(billing, InMemoryCache(), ttl=300)
    other = PageName(PageKind.COMPANY, "other")
    assert source.of(ACME) == FREE and source.of(other) == FREE
    [subscription] = entitlements_subscriptions("company", source)
    assert subscription.queue.name == "company.entitlements"
    assert [(b.exchange, b.routing_key) for b in subscription.queue.bindings] == [(BILLING, "devinsider_billing_queue")]

    billing.answer = PAID
    assert subscription.handler(changed(ACME.name)) is True
    assert subscription.handler(changed(ACME.name)) is True  # a redelivery: dropped again, harmless
    assert source.of(ACME) == PAID and source.of(other) == FREE  # only the changed page is asked again
    assert len(billing.calls) == 3
    # Billing's other events, and a page name it cannot read, are acknowledged without effect.
    unrelated = build_envelope(UserDeleted(subject="s"), source="user", external_id="x")
    assert subscription.handler(Delivery("company.entitlements", "m2", unrelated, 1)) is False
    assert subscription.handler(changed("not-a-page")) is False
    # A service run without billing has nothing to invalidate.
    assert entitlements_subscriptions("company", Unrestricted()) == []


def test_without_a_billing_target_nothing_is_limited() -> None:
    channels = ChannelFactory()
    try:
        source = connect_entitlements(EntitlementSettings(billing_target=""), channels, InMemoryCache())
    finally:
        channels.close()
    assert source.of(ACME) == WHEN_UNREACHABLE


@pytest.fixture
def billing_server() -> Iterator[tuple[str, list[Any]]]:
    seen: list[Any] = []
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers([billing_handler(lambda page: FREE if page == ACME.name else PAID, seen)])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", seen
    server.stop(grace=0)


def test_over_grpc_with_the_services_own_token(billing_server: tuple[str, list[Any]]) -> None:
    target, seen = billing_server
    channels = ChannelFactory(token_provider=lambda: "service-token")
    try:
        source = billing_entitlements(channels, target, InMemoryCache(), ttl=30)
        assert source.of(ACME) == FREE and source.of(PageName(PageKind.INVESTOR, "vc")) == PAID
    finally:
        channels.close()
    assert seen == [
        ("companies/acme/entitlements", "Bearer service-token"),
        ("investors/vc/entitlements", "Bearer service-token"),
    ]


def test_a_plan_limit_names_the_entitlement_and_the_way_out() -> None:
    error = plan_limit_reached("seats", ACME, 3, "no seat left", "SEATS_EXHAUSTED", retry_after=timedelta(hours=2))
    status = to_status_proto(error, "devinsider.company.v1.CompanyService")
    assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    info, quota, retry = error_details_pb2.ErrorInfo(), error_details_pb2.QuotaFailure(), error_details_pb2.RetryInfo()
    assert [d.Unpack(info) or d.Unpack(quota) or d.Unpack(retry) for d in status.details] == [True, True, True]
    assert info.reason == "SEATS_EXHAUSTED"
    assert dict(info.metadata) == {
        "entitlement": "seats",
        "page": "companies/acme",
        "limit": "3",
        "upgrade": "a plan that includes more lifts it (GET /v1/plans, then a checkout)",
    }
    [violation] = quota.violations
    assert violation.subject == "companies/acme/entitlements#seats"
    assert "a plan that includes more lifts it" in violation.description and "3 seats" in violation.description
    assert retry.retry_delay.seconds == 7200

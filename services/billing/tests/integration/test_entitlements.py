"""GetEntitlements and ChangeSubscriptionPlan through a running server on PostgreSQL with its local provider:
the wiring, the free tier then a plan's, an upgrade charged at the provider and replayed by request id, a
scheduled downgrade on the subscription, and how refusals travel. (The rules: tests/unit/test_plan_changes.py
and test_entitlements.py.)"""

from __future__ import annotations

from functools import partial

import grpc

from billing_service.bootstrap import BillingService
from devinsider.billing.v1 import billing_pb2 as b
from devinsider.billing.v1 import billing_pb2_grpc
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.neighbours import Neighbours
from devinsider_common.testing.services import bearer
from devinsider_common.testing.tokens import TokenFactory

from ..helpers import balance, checkout, pay, provider_api

ACME = "companies/acme"
Stub = billing_pb2_grpc.BillingServiceStub


def test_entitlements_follow_the_subscription_and_its_plan_changes(
    stub: Stub, service: BillingService, neighbours: Neighbours, tokens: TokenFactory, clock: FakeClock
) -> None:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    neighbours.add_member(ACME, "kc-viewer", PageRole.VIEWER)
    owner, viewer = bearer(tokens("kc-owner")), bearer(tokens("kc-viewer"))
    matching = bearer(tokens("service-matching", roles=("service",)))
    get = b.GetEntitlementsRequest(name=f"{ACME}/entitlements")

    free = stub.GetEntitlements(get, metadata=matching)
    assert (free.name, free.free_tier, free.plan, free.subscription) == (f"{ACME}/entitlements", True, "", "")
    assert free.entitlements == b.Entitlements(match_results_visible=10, contact_requests_per_month=5, seats=3)
    starter = stub.GetPlan(b.GetPlanRequest(name="plans/isv-starter-monthly"))
    assert starter.entitlements == b.Entitlements(
        monthly_credits=10, match_results_visible=50, directory_filters=True, contact_requests_per_month=20, seats=5
    )
    assert not stub.GetPlan(b.GetPlanRequest(name="plans/isv-credits-10")).HasField("entitlements")

    pay(checkout(stub, tokens("kc-owner"), ACME, "plans/isv-starter-monthly").checkout_url)  # a 14-day trial
    trial = stub.GetEntitlements(get, metadata=viewer)  # any member reads them
    assert (trial.free_tier, trial.plan, trial.entitlements) == (
        False,
        "plans/isv-starter-monthly",
        starter.entitlements,
    )
    [subscription] = stub.ListSubscriptions(b.ListSubscriptionsRequest(parent=ACME), metadata=owner).subscriptions
    assert trial.subscription == subscription.name and trial.period_end_time == subscription.current_period_end_time

    # The first paid period, then an upgrade charged at the provider for the period's remaining time.
    clock.advance(days=14)
    start = subscription.current_period_end_time.seconds
    renewal = {"period_start": start, "period_end": start + 86400 * 30}
    assert (
        provider_api(service, f"/v1/subscriptions/{subscription.provider_reference}/renew", renewal)["delivered"] == 200
    )
    clock.advance(days=15)  # half the period left
    change = b.ChangeSubscriptionPlanRequest(name=subscription.name, plan="plans/isv-pro-monthly", request_id="up-1")
    viewer_refused = failure(lambda: stub.ChangeSubscriptionPlan(change, metadata=viewer))
    assert (viewer_refused.code, viewer_refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
    upgraded = stub.ChangeSubscriptionPlan(change, metadata=owner)
    assert (upgraded.plan, upgraded.price.amount_minor, upgraded.scheduled_plan) == ("plans/isv-pro-monthly", 9900, "")
    assert stub.ChangeSubscriptionPlan(change, metadata=owner) == upgraded  # the same request id: replayed
    [charged, *_] = stub.ListInvoices(b.ListInvoicesRequest(parent=ACME), metadata=owner).invoices
    assert (charged.total.amount_minor, charged.subscription) == (2500, subscription.name)  # 5000 x 15/30
    assert service.provider is not None
    assert service.provider.state.payments[charged.provider_reference]["amount"] == 2500
    assert balance(stub, tokens("kc-owner"), ACME) == 10 + 10 + 15  # the trial, the period, the upgrade's extra
    pro = stub.GetEntitlements(get, metadata=owner)
    assert (pro.plan, pro.entitlements.match_results_visible, pro.entitlements.monthly_credits) == (
        "plans/isv-pro-monthly",
        0,
        25,
    )

    # Down again: at the end of the period, visible on the subscription and the entitlements.
    down = b.ChangeSubscriptionPlanRequest(name=subscription.name, plan="plans/isv-starter-monthly")
    scheduled = stub.ChangeSubscriptionPlan(down, metadata=owner)
    assert (scheduled.plan, scheduled.scheduled_plan) == ("plans/isv-pro-monthly", "plans/isv-starter-monthly")
    assert stub.GetEntitlements(get, metadata=owner).scheduled_plan == "plans/isv-starter-monthly"
    assert stub.GetSubscription(b.GetSubscriptionRequest(name=subscription.name), metadata=owner) == scheduled

    # Refusals travel with their reason and field.
    for plan, expected in (
        ("plans/investor-monthly", Failure(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["plan"])),
        ("not-a-plan", Failure(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["plan"])),
        ("plans/isv-pro-monthly", Failure(grpc.StatusCode.OK, "")),  # calls the downgrade off
        ("plans/isv-pro-monthly", Failure(grpc.StatusCode.FAILED_PRECONDITION, "SAME_PLAN")),
    ):
        request = b.ChangeSubscriptionPlanRequest(name=subscription.name, plan=plan)
        if expected.code == grpc.StatusCode.OK:
            assert stub.ChangeSubscriptionPlan(request, metadata=owner).scheduled_plan == ""
        else:
            assert failure(partial(stub.ChangeSubscriptionPlan, request, metadata=owner)) == expected

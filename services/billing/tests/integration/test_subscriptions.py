"""Subscriptions through the local provider: trialing -> active -> past_due -> canceled | expired,
with the period-end job doing what the calendar demands."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing_service.bootstrap import BillingService
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.pages.roles import PageRole

from ..conftest import Clock, TokenFactory, bearer
from ..helpers import balance, checkout, failure, pay, provider_api, session
from ..neighbours import Neighbours

ACME = "companies/acme"
S = billing_pb2


@pytest.fixture
def owner(neighbours: Neighbours, token: TokenFactory) -> str:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    return token("kc-owner")


def subscribe(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str, plan: str
) -> tuple[billing_pb2.Subscription, str]:
    created = checkout(stub, owner, ACME, plan)
    assert pay(created.checkout_url)["delivered"] == 200
    done = stub.GetCheckout(billing_pb2.GetCheckoutRequest(name=created.name), metadata=bearer(owner))
    assert done.state == S.CHECKOUT_STATE_COMPLETED and done.subscription
    subscription = stub.GetSubscription(
        billing_pb2.GetSubscriptionRequest(name=done.subscription), metadata=bearer(owner)
    )
    return subscription, session(service, created.provider_reference)["subscription"]


def get(stub: billing_pb2_grpc.BillingServiceStub, owner: str, name: str) -> billing_pb2.Subscription:
    return stub.GetSubscription(billing_pb2.GetSubscriptionRequest(name=name), metadata=bearer(owner))


def test_trial_then_paid_then_unpaid_until_expired(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str, clock: Clock
) -> None:
    subscription, provider_id = subscribe(stub, service, owner, "plans/isv-starter-monthly")
    assert subscription.state == S.SUBSCRIPTION_STATE_TRIALING and subscription.HasField("trial_end_time")
    assert subscription.current_period_end_time == subscription.trial_end_time
    assert balance(stub, owner, ACME) == 10  # the trial's credits
    invoices = stub.ListInvoices(billing_pb2.ListInvoicesRequest(parent=ACME), metadata=bearer(owner))
    assert list(invoices.invoices) == []  # nothing paid during a trial
    # A second subscription while one is live is refused.
    code, reason = failure(lambda: checkout(stub, owner, ACME, "plans/isv-pro-monthly"))
    assert (code.name, reason) == ("FAILED_PRECONDITION", "ALREADY_SUBSCRIBED")

    clock.advance(timedelta(days=15))  # the trial ended and no payment was confirmed
    assert service.app.jobs.run() == 1
    assert get(stub, owner, subscription.name).state == S.SUBSCRIPTION_STATE_PAST_DUE
    assert service.app.jobs.run() == 0  # nothing more to do until the grace period ends

    assert provider_api(service, f"/v1/subscriptions/{provider_id}/renew", {"outcome": "paid"})["delivered"] == 200
    active = get(stub, owner, subscription.name)
    assert active.state == S.SUBSCRIPTION_STATE_ACTIVE
    assert active.current_period_start_time == subscription.current_period_end_time
    assert balance(stub, owner, ACME) == 20
    paid = stub.ListInvoices(billing_pb2.ListInvoicesRequest(parent=ACME), metadata=bearer(owner)).invoices
    assert [(i.state, i.total.amount_minor, i.subscription) for i in paid] == [
        (S.INVOICE_STATE_PAID, 4900, subscription.name)
    ]
    assert paid[0].receipt_url.endswith(f"/receipts/{paid[0].provider_reference}")  # renewals have receipts too

    assert provider_api(service, f"/v1/subscriptions/{provider_id}/renew", {"outcome": "failed"})["delivered"] == 200
    assert get(stub, owner, subscription.name).state == S.SUBSCRIPTION_STATE_PAST_DUE
    clock.advance(timedelta(days=31 + service.settings.past_due_grace_days))
    assert service.app.jobs.run() == 1
    expired = get(stub, owner, subscription.name)
    assert expired.state == S.SUBSCRIPTION_STATE_EXPIRED and expired.HasField("end_time")
    # A late renewal of an expired subscription grants nothing.
    provider_api(service, f"/v1/subscriptions/{provider_id}/renew", {"outcome": "paid"})
    assert get(stub, owner, subscription.name).state == S.SUBSCRIPTION_STATE_EXPIRED
    assert balance(stub, owner, ACME) == 20


def test_cancel_at_period_end_then_the_job_expires_it(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str, clock: Clock
) -> None:
    subscription, provider_id = subscribe(stub, service, owner, "plans/isv-pro-monthly")
    assert subscription.state == S.SUBSCRIPTION_STATE_ACTIVE and balance(stub, owner, ACME) == 25
    request = billing_pb2.CancelSubscriptionRequest(name=subscription.name, reason="budget")
    canceling = stub.CancelSubscription(request, metadata=bearer(owner))
    assert canceling.state == S.SUBSCRIPTION_STATE_ACTIVE and canceling.cancel_at_period_end
    assert service.provider is not None
    assert service.provider.state.subscriptions[provider_id]["cancel_at_period_end"] is True
    code, reason = failure(lambda: stub.CancelSubscription(request, metadata=bearer(owner)))
    assert (code.name, reason) == ("FAILED_PRECONDITION", "ALREADY_CANCELING")
    assert service.app.jobs.run() == 0
    clock.advance(timedelta(days=32))
    assert service.app.jobs.run() == 1
    assert get(stub, owner, subscription.name).state == S.SUBSCRIPTION_STATE_EXPIRED
    code, reason = failure(lambda: stub.CancelSubscription(request, metadata=bearer(owner)))
    assert (code.name, reason) == ("FAILED_PRECONDITION", "SUBSCRIPTION_STATE")


def test_cancel_immediately_is_final(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str
) -> None:
    subscription, provider_id = subscribe(stub, service, owner, "plans/isv-pro-yearly")
    request = billing_pb2.CancelSubscriptionRequest(name=subscription.name, immediately=True)
    canceled = stub.CancelSubscription(request, metadata=bearer(owner))
    assert canceled.state == S.SUBSCRIPTION_STATE_CANCELED and canceled.HasField("cancel_time")
    assert service.provider is not None and service.provider.state.subscriptions[provider_id]["canceled"] is True
    code, _ = failure(lambda: stub.CancelSubscription(request, metadata=bearer(owner)))
    assert code.name == "FAILED_PRECONDITION"
    listed = stub.ListSubscriptions(
        billing_pb2.ListSubscriptionsRequest(parent=ACME, states=[S.SUBSCRIPTION_STATE_CANCELED]),
        metadata=bearer(owner),
    )
    assert [s.name for s in listed.subscriptions] == [subscription.name]
    # A new subscription may start once none is live; the live one is listed first.
    second, _ = subscribe(stub, service, owner, "plans/isv-pro-monthly")
    listed = stub.ListSubscriptions(billing_pb2.ListSubscriptionsRequest(parent=ACME), metadata=bearer(owner))
    assert [s.name for s in listed.subscriptions] == [second.name, subscription.name]


def test_a_renewal_in_another_currency_is_a_failed_payment(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str
) -> None:
    subscription, provider_id = subscribe(stub, service, owner, "plans/isv-pro-monthly")
    provider_api(service, f"/v1/subscriptions/{provider_id}/renew", {"currency": "USD"})
    assert get(stub, owner, subscription.name).state == S.SUBSCRIPTION_STATE_PAST_DUE
    assert balance(stub, owner, ACME) == 25  # the first period's credits only
    provider_api(service, f"/v1/subscriptions/{provider_id}/renew", {"amount": 1})
    assert get(stub, owner, subscription.name).state == S.SUBSCRIPTION_STATE_PAST_DUE
    provider_api(service, f"/v1/subscriptions/{provider_id}/renew", {})
    assert get(stub, owner, subscription.name).state == S.SUBSCRIPTION_STATE_ACTIVE
    assert balance(stub, owner, ACME) == 50


def test_two_paid_subscription_checkouts_start_one_subscription(
    stub: billing_pb2_grpc.BillingServiceStub, owner: str
) -> None:
    first = checkout(stub, owner, ACME, "plans/isv-pro-monthly")
    second = checkout(stub, owner, ACME, "plans/isv-pro-yearly")  # allowed: nothing is live yet
    pay(first.checkout_url)
    pay(second.checkout_url)
    states = [
        stub.GetCheckout(billing_pb2.GetCheckoutRequest(name=c.name), metadata=bearer(owner)).state
        for c in (first, second)
    ]
    assert states == [S.CHECKOUT_STATE_COMPLETED, S.CHECKOUT_STATE_FAILED]
    listed = stub.ListSubscriptions(billing_pb2.ListSubscriptionsRequest(parent=ACME), metadata=bearer(owner))
    assert [s.plan for s in listed.subscriptions] == ["plans/isv-pro-monthly"]
    assert balance(stub, owner, ACME) == 25

"""Subscriptions: trialing -> active -> past_due -> canceled | expired, driven by the provider's
events and by the period-end job, and canceled by the page (the provider told first)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import grpc

from billing_service.domain.subscriptions import Subscription, SubscriptionState
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.testing.failures import failure

from ..harness import ACME, Billing

TRIALING, ACTIVE, PAST_DUE = SubscriptionState.TRIALING, SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE
CANCELED, EXPIRED = SubscriptionState.CANCELED, SubscriptionState.EXPIRED


def subscribe(billing: Billing, owner: Principal, plan: str, amount: int | None = None) -> Subscription:
    created = billing.checkout(owner, ACME, plan)
    billing.pay(created, amount)
    done = billing.app.checkouts.get(owner, ACME, created.id)
    return billing.app.subscriptions.get(owner, ACME, done.subscription_id)


def state(billing: Billing, owner: Principal, subscription: Subscription) -> SubscriptionState:
    return billing.app.subscriptions.get(owner, ACME, subscription.id).state


def changes(billing: Billing) -> list[tuple[SubscriptionState, SubscriptionState | None]]:
    """(new state, previous state) of every SubscriptionChanged published so far."""
    return [(e.args[0].state, e.args[1]) for e in billing.published("subscription_changed")]


def test_trial_then_paid_then_unpaid_until_expired(billing: Billing, owner: Principal) -> None:
    subscription = subscribe(billing, owner, "isv-starter-monthly", amount=0)
    assert subscription.state is TRIALING and subscription.current_period_end == billing.clock() + timedelta(days=14)
    assert subscription.provider_reference.startswith("sub_") and subscription.contact_email == "owner@acme.io"
    assert billing.balance(ACME) == 10

    billing.clock.advance(days=15)  # the trial ended and no payment was confirmed
    assert billing.app.jobs.run() == 1
    assert state(billing, owner, subscription) is PAST_DUE
    [unpaid] = billing.published("payment_failed")
    assert unpaid.args == (ACME, "", subscription.name, "the renewal was not paid", "owner@acme.io")
    assert billing.app.jobs.run() == 0  # nothing more to do until the grace period ends

    renewal = {"subscription": subscription.provider_reference, "payment": "pay_r1", "amount": 4900, "currency": "EUR"}
    assert billing.send("subscription.renewed", renewal)
    active = billing.app.subscriptions.get(owner, ACME, subscription.id)
    assert active.state is ACTIVE and active.current_period_start == subscription.current_period_end
    assert active.current_period_end == subscription.current_period_end + timedelta(days=31)  # March -> April
    assert billing.balance(ACME) == 20
    [invoice], _ = billing.app.invoices.list_invoices(owner, ACME, 0, "", None)
    assert (invoice.total.amount_minor, invoice.subscription_id, invoice.provider_reference) == (
        4900,
        subscription.id,
        "pay_r1",
    )
    assert [e.args[1] for e in billing.published("payment_succeeded")] == ["owner@acme.io"]

    billing.send("subscription.payment_failed", {"subscription": subscription.provider_reference})
    assert state(billing, owner, subscription) is PAST_DUE
    assert billing.published("payment_failed")[-1].args[3] == "payment refused"
    billing.clock.advance(days=31 + billing.settings.past_due_grace_days)
    assert billing.app.jobs.run() == 1
    expired = billing.app.subscriptions.get(owner, ACME, subscription.id)
    assert expired.state is EXPIRED and expired.end_time == billing.clock()
    assert changes(billing) == [
        (TRIALING, None),
        (PAST_DUE, TRIALING),
        (ACTIVE, PAST_DUE),
        (PAST_DUE, ACTIVE),
        (EXPIRED, PAST_DUE),
    ]
    # Late events about an expired subscription change nothing.
    billing.send("subscription.renewed", renewal | {"payment": "pay_r2"})
    billing.send("subscription.payment_failed", {"subscription": subscription.provider_reference})
    billing.send("subscription.canceled", {"subscription": subscription.provider_reference})
    assert state(billing, owner, subscription) is EXPIRED and billing.balance(ACME) == 20


def test_a_renewal_names_its_period_or_follows_the_last_one(billing: Billing, owner: Principal) -> None:
    subscription = subscribe(billing, owner, "isv-pro-yearly")
    start, end = subscription.current_period_end, subscription.current_period_end + timedelta(days=400)
    renewal = {"subscription": subscription.provider_reference, "payment": "p", "amount": 99000, "currency": "EUR"}
    billing.send(
        "subscription.renewed", renewal | {"period_start": int(start.timestamp()), "period_end": int(end.timestamp())}
    )
    renewed = billing.app.subscriptions.get(owner, ACME, subscription.id)
    assert (renewed.current_period_start, renewed.current_period_end) == (start, end)
    assert changes(billing) == [(ACTIVE, None)]  # active before and after: no change published
    bad = renewal | {"payment": "p2", "period_start": 0}
    assert failure(lambda: billing.send("subscription.renewed", bad)).fields == ["body.data.period_start"]


def test_a_renewal_of_another_amount_or_currency_is_a_failed_payment(billing: Billing, owner: Principal) -> None:
    subscription = subscribe(billing, owner, "isv-pro-monthly")
    renewal = {"subscription": subscription.provider_reference, "payment": "p", "amount": 9900, "currency": "EUR"}
    billing.send("subscription.renewed", renewal | {"currency": "USD"})
    assert state(billing, owner, subscription) is PAST_DUE
    assert billing.balance(ACME) == 25  # the first period's credits only
    billing.send("subscription.renewed", renewal | {"amount": 1})
    assert state(billing, owner, subscription) is PAST_DUE
    reasons = [e.args[3] for e in billing.published("payment_failed")]
    assert reasons == ["renewal paid 9900 USD, expected 9900 EUR", "renewal paid 1 EUR, expected 9900 EUR"]
    billing.send("subscription.renewed", renewal)
    assert state(billing, owner, subscription) is ACTIVE
    assert billing.balance(ACME) == 50


def test_events_about_unknown_subscriptions_are_not_found(billing: Billing) -> None:
    data = {"subscription": "sub_x", "amount": 1, "currency": "EUR"}
    for event_type in ("subscription.renewed", "subscription.payment_failed", "subscription.canceled"):
        refused = failure(partial(billing.send, event_type, data))
        assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "SUBSCRIPTION_UNKNOWN")


def test_cancel_at_period_end_then_the_job_expires_it(billing: Billing, owner: Principal) -> None:
    subscription = subscribe(billing, owner, "isv-pro-monthly")
    assert subscription.state is ACTIVE and billing.balance(ACME) == 25
    canceling = billing.app.subscriptions.cancel(owner, ACME, subscription.id, False, "budget")
    assert canceling.state is ACTIVE and canceling.cancel_at_period_end and canceling.cancel_reason == "budget"
    assert billing.app.subscriptions.get(owner, ACME, subscription.id) == canceling  # what it stored
    assert billing.provider.cancellations == [(subscription.provider_reference, True)]
    refused = failure(lambda: billing.app.subscriptions.cancel(owner, ACME, subscription.id, False, ""))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_CANCELING")
    assert billing.app.jobs.run() == 0
    billing.clock.advance(days=32)
    assert billing.app.jobs.run() == 1
    assert state(billing, owner, subscription) is EXPIRED
    refused = failure(lambda: billing.app.subscriptions.cancel(owner, ACME, subscription.id, False, ""))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SUBSCRIPTION_STATE")
    assert len(billing.provider.cancellations) == 1  # refused before the provider was told
    assert changes(billing) == [(ACTIVE, None), (ACTIVE, ACTIVE), (EXPIRED, ACTIVE)]


def test_cancel_immediately_is_final_and_the_live_subscription_is_listed_first(
    billing: Billing, owner: Principal
) -> None:
    subscription = subscribe(billing, owner, "isv-pro-yearly")
    canceled = billing.app.subscriptions.cancel(owner, ACME, subscription.id, True, "")
    assert canceled.state is CANCELED and canceled.cancel_time == billing.clock()
    assert billing.provider.cancellations == [(subscription.provider_reference, False)]
    assert failure(lambda: billing.app.subscriptions.cancel(owner, ACME, subscription.id, True, "")).code == (
        grpc.StatusCode.FAILED_PRECONDITION
    )
    listed, _ = billing.app.subscriptions.list_subscriptions(owner, ACME, 0, "", [CANCELED])
    assert [s.id for s in listed] == [subscription.id]
    # A new subscription may start once none is live; the live one is listed first.
    second = subscribe(billing, owner, "isv-pro-monthly")
    third_party = billing.checkout(owner, ACME, "isv-credits-10")  # packs do not count
    billing.pay(third_party)
    listed, _ = billing.app.subscriptions.list_subscriptions(owner, ACME, 0, "", [])
    assert [s.id for s in listed] == [second.id, subscription.id]
    first_window, token = billing.app.subscriptions.list_subscriptions(owner, ACME, 1, "", [])
    rest, last = billing.app.subscriptions.list_subscriptions(owner, ACME, 1, token, [])
    assert [s.id for s in first_window + rest] == [second.id, subscription.id] and last == ""
    assert billing.app.subscriptions.list_subscriptions(owner, ACME, 0, "", [EXPIRED]) == ([], "")


def test_a_cancel_the_provider_announced_first_answers_the_canceled_subscription(
    billing: Billing, owner: Principal
) -> None:
    subscription = subscribe(billing, owner, "isv-pro-monthly")
    billing.provider.meanwhile = lambda: billing.send(
        "subscription.canceled", {"subscription": subscription.provider_reference}
    )
    canceled = billing.app.subscriptions.cancel(owner, ACME, subscription.id, True, "now")
    assert canceled.state is CANCELED and canceled.cancel_reason == "canceled at the provider"
    assert changes(billing) == [(ACTIVE, None), (CANCELED, ACTIVE)]  # once


def test_a_provider_that_cannot_be_reached_leaves_the_subscription_as_it_was(
    billing: Billing, owner: Principal
) -> None:
    subscription = subscribe(billing, owner, "isv-pro-monthly")
    billing.provider.refuse = errors.Unavailable("the payment provider cannot be reached")
    refused = failure(lambda: billing.app.subscriptions.cancel(owner, ACME, subscription.id, False, ""))
    assert refused.code == grpc.StatusCode.UNAVAILABLE
    assert billing.app.subscriptions.get(owner, ACME, subscription.id) == subscription


def test_bad_cancellations(billing: Billing, owner: Principal) -> None:
    subscription = subscribe(billing, owner, "isv-pro-monthly")
    too_long = failure(lambda: billing.app.subscriptions.cancel(owner, ACME, subscription.id, False, "x" * 1001))
    assert (too_long.code, too_long.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["reason"])
    missing = failure(lambda: billing.app.subscriptions.cancel(owner, ACME, "missing", False, ""))
    assert missing.code == grpc.StatusCode.NOT_FOUND
    assert billing.provider.cancellations == []
    billing.stale_reads += [set(), {("subscriptions", "get")}]  # gone by the time it is locked
    vanished = failure(lambda: billing.app.subscriptions.cancel(owner, ACME, subscription.id, False, ""))
    assert vanished.code == grpc.StatusCode.NOT_FOUND


def test_the_job_handles_each_due_subscription_once(billing: Billing, owner: Principal) -> None:
    subscription = subscribe(billing, owner, "isv-pro-monthly")
    billing.clock.advance(days=32)
    assert billing.app.subscriptions.end_due_periods() == 1
    assert billing.app.subscriptions.end_due_periods() == 0  # past due now: not due again before the grace
    assert state(billing, owner, subscription) is PAST_DUE
    billing.clock.advance(days=7)
    assert billing.app.subscriptions.end_due_periods() == 1
    assert state(billing, owner, subscription) is EXPIRED

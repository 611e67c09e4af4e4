"""The provider's webhook: nothing is granted until a signed event confirms a payment; events are
applied once, strict about signatures, amounts and currencies; refunds withdraw what is left."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest

from billing_service.domain.checkouts import CheckoutState
from billing_service.domain.invoices import InvoiceState
from billing_service.domain.ledger import LedgerEntryKind
from billing_service.domain.money import Money
from billing_service.domain.payment_events import signature_header
from billing_service.domain.subscriptions import SubscriptionState
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.testing.failures import failure

from ..harness import ACME, SECRET, STAFF, Billing, new_billing

GRANT, SPEND, EXPIRE = LedgerEntryKind.GRANT, LedgerEntryKind.SPEND, LedgerEntryKind.EXPIRE


def investor(i: int) -> PageName:
    return PageName(PageKind.INVESTOR, f"vc{i}")


def test_a_credit_pack_is_granted_only_when_the_provider_confirms(billing: Billing, owner: Principal) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    assert billing.balance(ACME) == 0 and billing.published() == []
    assert billing.pay(created, receipt_url="https://pay.example/receipts/p1") is True
    done = billing.app.checkouts.get(owner, ACME, created.id)
    assert done.state is CheckoutState.COMPLETED and done.close_time == billing.clock() and done.subscription_id == ""
    assert billing.balance(ACME) == 10
    invoice = billing.app.invoices.get(owner, ACME, done.invoice_id)
    assert (invoice.state, invoice.total, invoice.number) == (InvoiceState.PAID, Money("EUR", 5000), "DI-2026-000001")
    assert (invoice.provider_reference, invoice.checkout_id) == (f"pay_{created.id}", created.id)
    assert invoice.receipt_url == "https://pay.example/receipts/p1"
    assert billing.entries(ACME) == [(GRANT, 10, 10)]
    [entry], _ = billing.app.ledger.list_ledger_entries(owner, ACME, 0, "", None)
    assert (entry.reference, entry.creator, entry.description) == (created.name, "payment-provider", "10 credits (ISV)")
    assert invoice.credits_entry_id == entry.id
    granted, succeeded = billing.published()
    assert (granted.kind, granted.args) == ("credits_granted", (entry,))
    assert (succeeded.kind, succeeded.args) == ("payment_succeeded", (invoice, "owner@acme.io"))


@pytest.mark.parametrize(("data", "reason"), [({"reason": "card declined"}, "card declined"), ({}, "payment refused")])
def test_a_declined_payment_fails_the_checkout_and_grants_nothing(
    billing: Billing, owner: Principal, data: dict[str, Any], reason: str
) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    billing.send("checkout.failed", {"checkout": created.provider_reference, **data})
    done = billing.app.checkouts.get(owner, ACME, created.id)
    assert (done.state, done.failure_reason) == (CheckoutState.FAILED, reason)
    assert billing.balance(ACME) == 0
    [failed] = billing.published()
    assert failed.args == (ACME, created.name, "", reason, "owner@acme.io")


def test_an_expired_session_expires_the_checkout_and_closed_checkouts_ignore_later_events(
    billing: Billing, owner: Principal
) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    billing.send("checkout.expired", {"checkout": created.provider_reference})
    assert billing.app.checkouts.get(owner, ACME, created.id).state is CheckoutState.EXPIRED
    for event_type in ("checkout.completed", "checkout.failed", "checkout.expired"):
        assert billing.send(event_type, {"checkout": created.provider_reference, "amount": 5000, "currency": "EUR"})
    assert billing.app.checkouts.get(owner, ACME, created.id).state is CheckoutState.EXPIRED
    assert billing.balance(ACME) == 0 and billing.published() == []


def test_a_replayed_delivery_changes_nothing(billing: Billing, owner: Principal) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    body, header = billing.signed(
        "checkout.completed",
        {"checkout": created.provider_reference, "payment": "p", "amount": 5000, "currency": "EUR"},
    )
    assert billing.app.payments.receive(body, header) is True
    assert billing.app.payments.receive(body, header) is False  # acknowledged, so the provider stops retrying
    assert billing.balance(ACME) == 10 and len(billing.published("credits_granted")) == 1
    billing.clock.advance(seconds=billing.settings.payment_webhook_tolerance_seconds + 1)
    refused = failure(lambda: billing.app.payments.receive(body, header))  # outside the window: refused first
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "SIGNATURE_STALE")


def test_an_event_id_seen_before_changes_nothing_whatever_it_carries(billing: Billing, owner: Principal) -> None:
    first = billing.checkout(owner, ACME, "isv-credits-10", request_id="a")
    second = billing.checkout(owner, ACME, "isv-credits-10", request_id="b")
    assert billing.pay(first, event_id="evt_same") is True
    assert billing.pay(second, event_id="evt_same") is False  # same id, other payload
    assert billing.app.checkouts.get(owner, ACME, second.id).state is CheckoutState.OPEN
    assert billing.balance(ACME) == 10


@pytest.mark.parametrize(
    ("secret", "age", "header", "reason"),
    [
        ("wrong-secret", 0, None, "SIGNATURE_MISMATCH"),
        (SECRET, 301, None, "SIGNATURE_STALE"),
        (SECRET, -301, None, "SIGNATURE_STALE"),
        (SECRET, 0, "", "SIGNATURE_MISSING"),
        (SECRET, 0, "t=1,v1=00", "SIGNATURE_MISMATCH"),
        (SECRET, 0, "v1=00", "SIGNATURE_MALFORMED"),
    ],
)
def test_unsigned_wrongly_signed_or_stale_events_are_unauthenticated_and_change_nothing(
    billing: Billing, owner: Principal, secret: str, age: int, header: str | None, reason: str
) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    event = {"id": "evt_1", "type": "checkout.completed", "created": 1}
    event["data"] = {"checkout": created.provider_reference, "payment": "p", "amount": 5000, "currency": "EUR"}
    body = json.dumps(event).encode()
    if header is None:
        header = signature_header(body, secret, int(billing.clock().timestamp()) - age)
    refused = failure(lambda: billing.app.payments.receive(body, header))
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, reason)
    assert billing.app.checkouts.get(owner, ACME, created.id).state is CheckoutState.OPEN
    assert billing.balance(ACME) == 0
    good = signature_header(body, SECRET, int(billing.clock().timestamp()))
    assert billing.app.payments.receive(body, good) is True  # the same event id, properly signed, still applies
    assert billing.balance(ACME) == 10


def test_without_a_webhook_secret_no_event_is_accepted() -> None:
    billing = new_billing(payment_webhook_secret="")
    body, header = billing.signed("checkout.expired", {"checkout": "cs_1"})
    refused = failure(lambda: billing.app.payments.receive(body, header))
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAVAILABLE, "WEBHOOK_NOT_CONFIGURED")


@pytest.mark.parametrize(
    ("amount", "currency"), [(4999, "EUR"), (5001, "EUR"), (0, "EUR"), (5000, "USD"), (5000, "GBP")]
)
def test_an_amount_or_currency_mismatch_fails_the_checkout_and_grants_nothing(
    billing: Billing, owner: Principal, amount: int, currency: str
) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    billing.pay(created, amount, currency)
    done = billing.app.checkouts.get(owner, ACME, created.id)
    assert done.state is CheckoutState.FAILED and done.failure_reason.startswith("paid ")
    assert billing.balance(ACME) == 0
    billing.pay(created)  # a later good event: too late
    assert billing.balance(ACME) == 0
    assert billing.app.invoices.list_invoices(owner, ACME, 0, "", None) == ([], "")
    assert [e.kind for e in billing.published()] == ["payment_failed"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": -5000}, "body.data.amount"),
        ({"amount": "5000"}, "body.data.amount"),
        ({"amount": 50.0}, "body.data.amount"),
        ({"amount": True}, "body.data.amount"),
        ({"currency": "eur"}, "body.data.currency"),
        ({"currency": None}, "body.data.currency"),
        ({"checkout": ""}, "body.data.checkout"),
    ],
)
def test_negative_and_malformed_amounts_are_invalid_and_change_nothing(
    billing: Billing, owner: Principal, data: dict[str, Any], field: str
) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    values = {"checkout": created.provider_reference, "payment": "p", "amount": 5000, "currency": "EUR"} | data
    refused = failure(lambda: billing.send("checkout.completed", values, event_id="evt_1"))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [field])
    assert billing.app.checkouts.get(owner, ACME, created.id).state is CheckoutState.OPEN
    assert billing.pay(created, event_id="evt_1") is True  # the corrected event, same id, applies
    assert billing.balance(ACME) == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1]", "body"),
        (b'{"id": "e", "type": "nope", "created": 1, "data": {}}', "body.type"),
        (b'{"id": "", "type": "checkout.failed", "created": 1, "data": {}}', "body.id"),
    ],
)
def test_malformed_bodies_are_invalid(billing: Billing, body: bytes, field: str) -> None:
    header = signature_header(body, SECRET, int(billing.clock().timestamp()))
    refused = failure(lambda: billing.app.payments.receive(body, header))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [field])


def test_an_event_for_an_unknown_checkout_is_not_found_so_the_provider_retries(
    billing: Billing, owner: Principal
) -> None:
    refused = failure(lambda: billing.send("checkout.completed", {"checkout": "cs_unknown"}, event_id="evt_early"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "CHECKOUT_UNKNOWN")
    created = billing.checkout(owner, ACME, "isv-credits-10")  # the provider answered before we stored ours
    assert billing.pay(created, event_id="evt_early") is True  # the retry applies: nothing was recorded
    assert billing.balance(ACME) == 10


def test_a_checkout_whose_plan_disappeared_is_refused_until_it_is_back(billing: Billing, owner: Principal) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    plan = billing.store.tables["plans"].pop("isv-credits-10")
    refused = failure(lambda: billing.pay(created, event_id="evt_1"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PLAN_UNKNOWN")
    billing.store.tables["plans"]["isv-credits-10"] = plan
    assert billing.pay(created, event_id="evt_1") is True


def test_a_trial_starts_on_a_payment_of_nothing_and_issues_no_invoice(billing: Billing, owner: Principal) -> None:
    created = billing.checkout(owner, ACME, "isv-starter-monthly")
    billing.pay(created, amount=0)
    done = billing.app.checkouts.get(owner, ACME, created.id)
    assert done.state is CheckoutState.COMPLETED and done.invoice_id == "" and done.subscription_id
    subscription = billing.app.subscriptions.get(owner, ACME, done.subscription_id)
    assert (
        subscription.state is SubscriptionState.TRIALING and subscription.trial_end == subscription.current_period_end
    )
    assert billing.balance(ACME) == 10  # the trial's credits
    assert billing.app.invoices.list_invoices(owner, ACME, 0, "", None) == ([], "")


def test_two_paid_subscription_checkouts_start_one_subscription(billing: Billing, owner: Principal) -> None:
    first = billing.checkout(owner, ACME, "isv-pro-monthly")
    second = billing.checkout(owner, ACME, "isv-pro-yearly")  # allowed: nothing is live yet
    billing.pay(first)
    billing.pay(second)
    states = [billing.app.checkouts.get(owner, ACME, c.id).state for c in (first, second)]
    assert states == [CheckoutState.COMPLETED, CheckoutState.FAILED]
    assert (
        billing.app.checkouts.get(owner, ACME, second.id).failure_reason == "the page already has a live subscription"
    )
    listed, _ = billing.app.subscriptions.list_subscriptions(owner, ACME, 0, "", [])
    assert [s.plan_id for s in listed] == ["isv-pro-monthly"]
    assert billing.balance(ACME) == 25


def test_a_subscription_started_concurrently_is_a_conflict_and_the_retry_fails_the_checkout(
    billing: Billing, owner: Principal
) -> None:
    first = billing.checkout(owner, ACME, "isv-pro-monthly")
    second = billing.checkout(owner, ACME, "isv-pro-yearly")
    billing.pay(first)
    billing.stale_reads.append({("subscriptions", "list_after")})  # read before the first committed
    refused = failure(lambda: billing.pay(second, event_id="evt-second"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.ABORTED, "CONCURRENT_UPDATE")
    assert billing.app.checkouts.get(owner, ACME, second.id).state is CheckoutState.OPEN  # nothing stayed
    assert billing.pay(second, event_id="evt-second") is True  # the provider's retry is applied
    done = billing.app.checkouts.get(owner, ACME, second.id)
    assert (done.state, done.failure_reason) == (CheckoutState.FAILED, "the page already has a live subscription")


def test_a_refunded_payment_withdraws_what_is_left_of_its_credits(billing: Billing, owner: Principal) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    billing.pay(created)
    for i in range(3):
        billing.unlock(owner, investor(i), f"r{i}", page=ACME)
    assert billing.balance(ACME) == 7
    refund = {"payment": f"pay_{created.id}", "amount": 5000, "currency": "EUR"}
    assert billing.send("payment.refunded", refund, event_id="evt_refund") is True
    assert billing.balance(ACME) == 0
    assert billing.entries(ACME) == [(GRANT, 10, 10), (SPEND, -1, 9), (SPEND, -1, 8), (SPEND, -1, 7), (EXPIRE, -7, 0)]
    [invoice], _ = billing.app.invoices.list_invoices(owner, ACME, 0, "", None)
    assert invoice.state is InvoiceState.REFUNDED
    # Unlocks never expire, even when the credits that paid for them were refunded.
    assert len(billing.app.unlocks.list_unlocks(owner, ACME, 0, "", None)[0]) == 3
    assert billing.send("payment.refunded", refund, event_id="evt_refund") is False  # the provider's retry
    assert billing.send("payment.refunded", refund) is True  # another event for the same refund: nothing left
    assert len(billing.entries(ACME)) == 5


def test_a_refund_of_credits_already_spent_withdraws_nothing(billing: Billing, owner: Principal) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    billing.pay(created)
    billing.app.ledger.create(STAFF, ACME, LedgerEntryKind.GRANT, 1, "", None, "g")
    for i in range(11):
        billing.unlock(owner, investor(i), f"r{i}", page=ACME)
    billing.send("payment.refunded", {"payment": f"pay_{created.id}", "amount": 5000, "currency": "EUR"})
    assert billing.balance(ACME) == 0 and [k for k, _, _ in billing.entries(ACME)].count(EXPIRE) == 0


def test_refunds_of_unknown_payments_or_in_another_currency_are_refused(billing: Billing, owner: Principal) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    billing.pay(created)
    unknown = failure(lambda: billing.send("payment.refunded", {"payment": "pay_x", "amount": 1, "currency": "EUR"}))
    assert (unknown.code, unknown.reason) == (grpc.StatusCode.NOT_FOUND, "PAYMENT_UNKNOWN")
    other = {"payment": f"pay_{created.id}", "amount": 5000, "currency": "USD"}
    refused = failure(lambda: billing.send("payment.refunded", other))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CURRENCY_MISMATCH")
    assert billing.balance(ACME) == 10

"""The servicer on the use cases over fakes, called as the server calls it (the caller in the
request's context): request fields -> use-case arguments (names, enums, idempotency keys,
timestamps) and results -> messages. The transport itself is tests/integration/test_rpcs.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.api import httpbody_pb2
from google.protobuf import timestamp_pb2

from billing_service.entrypoints.grpc_servicer import BillingServicer
from devinsider.billing.v1 import billing_pb2 as b
from devinsider.common.v1 import page_pb2
from devinsider_common.auth.principal import Principal
from devinsider_common.context import principal_var
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import principal

from ..harness import ACME, NOW, ORIGIN, PROGRAM, STAFF, Billing

INVALID = grpc.StatusCode.INVALID_ARGUMENT


class Context:
    """What a servicer reads of its `grpc.ServicerContext`: the request's metadata."""

    def __init__(self, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self._metadata = metadata

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata


@pytest.fixture
def servicer(billing: Billing) -> BillingServicer:
    return BillingServicer(billing.app)


@pytest.fixture
def as_caller() -> Iterator[Callable[[Principal], None]]:
    """`as_caller(p)`: the calls that follow are made by `p` (what the server's interceptor sets)."""
    tokens = []

    def use(caller: Principal) -> None:
        tokens.append(principal_var.set(caller))

    yield use
    for token in reversed(tokens):
        principal_var.reset(token)


def call(servicer: BillingServicer, rpc: str, request: Any, metadata: tuple[tuple[str, str], ...] = ()) -> Any:
    return getattr(servicer, rpc)(request, Context(metadata))


@pytest.mark.parametrize(
    ("rpc", "message", "field"),
    [
        ("ListPlans", b.ListPlansRequest(page_kind=9), "page_kind"),  # type: ignore[arg-type]
        ("ListPlans", b.ListPlansRequest(kind=7), "kind"),  # type: ignore[arg-type]
        ("GetPlan", b.GetPlanRequest(name="isv"), "name"),
        ("ListSubscriptions", b.ListSubscriptionsRequest(parent=ACME.name, states=[9]), "states[0]"),  # type: ignore[list-item]
        ("ListSubscriptions", b.ListSubscriptionsRequest(parent="nope"), "parent"),
        ("GetSubscription", b.GetSubscriptionRequest(name=f"{ACME.name}/plans/x"), "name"),
        ("CancelSubscription", b.CancelSubscriptionRequest(name="subscriptions/x"), "name"),
        (
            "CreateCheckout",
            b.CreateCheckoutRequest(parent=ACME.name, checkout=b.Checkout(plan="isv-credits-10")),
            "checkout.plan",
        ),
        ("CreateCheckout", b.CreateCheckoutRequest(parent="users/x"), "parent"),
        (
            "CreateCheckout",
            b.CreateCheckoutRequest(parent=ACME.name, checkout=b.Checkout(plan="plans/p"), request_id="x" * 129),
            "request_id",
        ),
        ("GetCheckout", b.GetCheckoutRequest(name=f"{ACME.name}/checkouts/"), "name"),
        ("GetCreditBalance", b.GetCreditBalanceRequest(name=ACME.name), "name"),
        ("ListLedgerEntries", b.ListLedgerEntriesRequest(parent=ACME.name, kind=99), "kind"),  # type: ignore[arg-type]
        (
            "CreateLedgerEntry",
            b.CreateLedgerEntryRequest(parent=ACME.name, ledger_entry=b.LedgerEntry(credits=1), request_id="r"),
            "ledger_entry.kind",
        ),
        ("CreateUnlock", b.CreateUnlockRequest(parent="nope"), "parent"),
        (
            "CreateUnlock",
            b.CreateUnlockRequest(parent=PROGRAM.name, unlock=b.Unlock(target=page_pb2.PageRef(name="users/x"))),
            "unlock.target.name",
        ),
        (
            "CreateUnlock",
            b.CreateUnlockRequest(
                parent=PROGRAM.name,
                unlock=b.Unlock(target=page_pb2.PageRef(kind=page_pb2.PAGE_KIND_INVESTOR, name="companies/isv-1")),
                request_id="r",
            ),
            "unlock.target.kind",
        ),
        ("GetUnlock", b.GetUnlockRequest(name="unlocks/x"), "name"),
        ("ListUnlocks", b.ListUnlocksRequest(parent=ACME.name, target_kind=8), "target_kind"),  # type: ignore[arg-type]
        ("ListInvoices", b.ListInvoicesRequest(parent=ACME.name, state=8), "state"),  # type: ignore[arg-type]
        ("GetInvoice", b.GetInvoiceRequest(name=f"{ACME.name}/invoices"), "name"),
        ("HasUnlocked", b.HasUnlockedRequest(target=ACME.name), "viewer"),
        ("HasUnlocked", b.HasUnlockedRequest(target="x", subject="kc"), "target"),
        ("HasUnlocked", b.HasUnlockedRequest(target=ACME.name, unlocker="users/u"), "unlocker"),
    ],
)
def test_malformed_requests_name_the_field(
    servicer: BillingServicer, as_caller: Callable[[Principal], None], rpc: str, message: Any, field: str
) -> None:
    as_caller(STAFF)
    assert failure(lambda: call(servicer, rpc, message)) == Failure(INVALID, "INVALID_ARGUMENT", [field])


def test_without_a_caller_a_call_is_unauthenticated(servicer: BillingServicer) -> None:
    refused = failure(
        lambda: call(servicer, "GetCreditBalance", b.GetCreditBalanceRequest(name=f"{ACME.name}/creditBalance"))
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")


def test_a_purchase_reads_and_answers_every_resource(
    billing: Billing, servicer: BillingServicer, as_caller: Callable[[Principal], None]
) -> None:
    owner = billing.member(ACME, "kc-owner")
    as_caller(owner)
    plans = call(servicer, "ListPlans", b.ListPlansRequest(page_kind=page_pb2.PAGE_KIND_COMPANY, page_size=2))
    assert [p.name for p in plans.plans] == [
        "plans/isv-starter-monthly",
        "plans/isv-credits-10",
    ] and plans.next_page_token
    plan = call(servicer, "GetPlan", b.GetPlanRequest(name="plans/isv-pro-monthly"))
    assert (plan.price.amount_minor, plan.interval, list(plan.features)) == (
        9900,
        b.BILLING_INTERVAL_MONTH,
        ["25 unlocks a month", "Matching"],
    )
    request = b.CreateCheckoutRequest(
        parent=ACME.name, checkout=b.Checkout(plan=plan.name, success_url=f"{ORIGIN}/ok"), request_id="  k1  "
    )
    created = call(servicer, "CreateCheckout", request)
    assert created.name.startswith(f"{ACME.name}/checkouts/") and created.state == b.CHECKOUT_STATE_OPEN
    assert created.plan == plan.name and created.checkout_url.startswith("https://pay.example/")
    assert call(servicer, "CreateCheckout", request) == created  # the key is stripped, then the same
    checkout = billing.app.checkouts.get(owner, ACME, created.name.rsplit("/", 1)[1])
    assert checkout.request_id == "k1"

    body, header = billing.signed(
        "checkout.completed",
        {
            "checkout": checkout.provider_reference,
            "payment": "pay_1",
            "subscription": "sub_1",
            "amount": 9900,
            "currency": "EUR",
        },
    )
    event = b.ReceivePaymentEventRequest(body=httpbody_pb2.HttpBody(content_type="application/json", data=body))
    call(servicer, "ReceivePaymentEvent", event, (("x-payment-signature", header), ("x-other", "1")))
    done = call(servicer, "GetCheckout", b.GetCheckoutRequest(name=created.name))
    assert done.state == b.CHECKOUT_STATE_COMPLETED and done.invoice.startswith(f"{ACME.name}/invoices/")
    assert done.subscription.startswith(f"{ACME.name}/subscriptions/") and done.HasField("close_time")

    invoice = call(servicer, "GetInvoice", b.GetInvoiceRequest(name=done.invoice))
    assert (invoice.state, invoice.total.amount_minor, invoice.subscription) == (
        b.INVOICE_STATE_PAID,
        9900,
        done.subscription,
    )
    assert [
        i.name
        for i in call(
            servicer, "ListInvoices", b.ListInvoicesRequest(parent=ACME.name, state=b.INVOICE_STATE_PAID)
        ).invoices
    ] == [invoice.name]
    subscription = call(servicer, "GetSubscription", b.GetSubscriptionRequest(name=done.subscription))
    assert (subscription.state, subscription.plan) == (b.SUBSCRIPTION_STATE_ACTIVE, plan.name)
    listed = call(
        servicer,
        "ListSubscriptions",
        b.ListSubscriptionsRequest(parent=ACME.name, states=[b.SUBSCRIPTION_STATE_ACTIVE]),
    )
    assert [s.name for s in listed.subscriptions] == [subscription.name]
    canceled = call(
        servicer,
        "CancelSubscription",
        b.CancelSubscriptionRequest(name=subscription.name, immediately=True, reason="r"),
    )
    assert canceled.state == b.SUBSCRIPTION_STATE_CANCELED and canceled.HasField("cancel_time")

    balance = call(servicer, "GetCreditBalance", b.GetCreditBalanceRequest(name=f"{ACME.name}/creditBalance"))
    [entry] = call(
        servicer, "ListLedgerEntries", b.ListLedgerEntriesRequest(parent=ACME.name, kind=b.LEDGER_ENTRY_KIND_GRANT)
    ).ledger_entries
    assert (balance.name, balance.balance, balance.last_ledger_entry) == (f"{ACME.name}/creditBalance", 25, entry.name)
    assert balance.update_time.ToDatetime().replace(tzinfo=NOW.tzinfo) == NOW
    assert (entry.kind, entry.credits, entry.balance_after, entry.reference) == (
        b.LEDGER_ENTRY_KIND_GRANT,
        25,
        25,
        subscription.name,
    )


def test_credits_and_unlocks(
    billing: Billing, servicer: BillingServicer, as_caller: Callable[[Principal], None]
) -> None:
    as_caller(STAFF)
    expires = timestamp_pb2.Timestamp()
    expires.FromDatetime(NOW + timedelta(days=3))
    grant = b.CreateLedgerEntryRequest(
        parent=PROGRAM.name,
        ledger_entry=b.LedgerEntry(kind=b.LEDGER_ENTRY_KIND_GRANT, credits=2, description="promo", expire_time=expires),
        request_id="g1",
    )
    entry = call(servicer, "CreateLedgerEntry", grant)
    assert (entry.credits, entry.balance_after, entry.description, entry.expire_time) == (2, 2, "promo", expires)
    never = b.CreateLedgerEntryRequest(
        parent=PROGRAM.name, ledger_entry=b.LedgerEntry(kind=b.LEDGER_ENTRY_KIND_REFUND, credits=1), request_id="g2"
    )
    assert not call(servicer, "CreateLedgerEntry", never).HasField("expire_time")
    empty = call(servicer, "GetCreditBalance", b.GetCreditBalanceRequest(name=f"{ACME.name}/creditBalance"))
    assert (empty.balance, empty.last_ledger_entry, empty.HasField("update_time")) == (0, "", False)

    spender = billing.member(PROGRAM, "kc-spender", PageRole.ADMIN)
    as_caller(spender)
    target = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_COMPANY, name="companies/isv-1")
    done = call(
        servicer,
        "CreateUnlock",
        b.CreateUnlockRequest(parent=PROGRAM.name, unlock=b.Unlock(target=target), request_id="u1"),
    )
    assert (done.target, done.cost, done.creator) == (target, 1, "kc-spender")
    assert done.ledger_entry.startswith(f"{PROGRAM.name}/ledgerEntries/") and done.HasField("create_time")
    untyped = b.Unlock(target=page_pb2.PageRef(name="companies/isv-1"))  # the kind may be left out
    assert (
        call(servicer, "CreateUnlock", b.CreateUnlockRequest(parent=PROGRAM.name, unlock=untyped, request_id="u2"))
        == done
    )
    assert call(servicer, "GetUnlock", b.GetUnlockRequest(name=done.name)) == done
    assert list(
        call(
            servicer, "ListUnlocks", b.ListUnlocksRequest(parent=PROGRAM.name, target_kind=page_pb2.PAGE_KIND_COMPANY)
        ).unlocks
    ) == [done]

    as_caller(principal("service-company", roles=("service",)))
    by_page = call(servicer, "HasUnlocked", b.HasUnlockedRequest(target="companies/isv-1", unlocker=PROGRAM.name))
    assert by_page.unlocked and list(by_page.unlockers) == [PROGRAM.name] and by_page.cache_ttl_seconds == 30
    by_member = call(servicer, "HasUnlocked", b.HasUnlockedRequest(target="companies/isv-1", subject="kc-spender"))
    assert list(by_member.unlockers) == [PROGRAM.name]
    nobody = call(servicer, "HasUnlocked", b.HasUnlockedRequest(target="companies/isv-1", subject="kc-x"))
    assert not nobody.unlocked and list(nobody.unlockers) == []

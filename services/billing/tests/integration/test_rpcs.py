"""Every RPC through a running server on PostgreSQL: the wiring (request -> use case -> SQL ->
response), how a refusal travels (status, ErrorInfo reason, field violations), the access policy
of each RPC, page tokens bound to their caller and filters, billing's identity towards its
neighbours, and the local provider's signed callbacks through the webhook forwarder.

The rules themselves (validation, permissions, state machines) are tested without I/O in
tests/unit; the stores' contract on PostgreSQL and SQLite in tests/adapters."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from functools import partial

import grpc
import pytest
from google.api import httpbody_pb2
from google.protobuf import timestamp_pb2

from billing_service.bootstrap import BillingService
from billing_service.domain.payment_events import signature_header
from devinsider.billing.v1 import billing_pb2 as b
from devinsider.billing.v1 import billing_pb2_grpc
from devinsider.company.v1 import company_pb2
from devinsider_common.grpc.status import error_info, from_rpc_error
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.neighbours import Neighbours
from devinsider_common.testing.services import bearer
from devinsider_common.testing.tokens import TokenFactory

from ..conftest import WEBHOOK_SECRET
from ..helpers import PROGRAM, balance, checkout, grant, pay, provider_api, unlock

ACME = "companies/acme"
MISSING = "01234567-89ab-7cde-8f01-23456789abcd"
Stub = billing_pb2_grpc.BillingServiceStub


def test_the_catalogue_is_public_and_pages_with_tokens(stub: Stub) -> None:
    everything = stub.ListPlans(b.ListPlansRequest()).plans
    assert len(everything) == 11 and [p.price.amount_minor for p in everything] == sorted(
        p.price.amount_minor for p in everything
    )
    seen: list[str] = []
    token = ""
    while True:
        window = stub.ListPlans(b.ListPlansRequest(page_size=4, page_token=token))
        seen += [p.name for p in window.plans]
        if not (token := window.next_page_token):
            break
    assert seen == [p.name for p in everything]
    yearly = stub.GetPlan(b.GetPlanRequest(name="plans/isv-pro-yearly"))
    assert (yearly.interval, yearly.credits, yearly.price.currency_code) == (b.BILLING_INTERVAL_YEAR, 300, "EUR")
    assert failure(lambda: stub.GetPlan(b.GetPlanRequest(name="plans/nope"))).code == grpc.StatusCode.NOT_FOUND
    assert failure(lambda: stub.ListPlans(b.ListPlansRequest(page_token="bogus"))) == Failure(
        grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["page_token"]
    )


def test_buying_a_pack_through_the_local_provider_then_its_refund(
    stub: Stub, service: BillingService, neighbours: Neighbours, tokens: TokenFactory
) -> None:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    owner = bearer(tokens("kc-owner"))
    bad = b.CreateCheckoutRequest(
        parent=ACME, checkout=b.Checkout(plan="plans/isv-credits-10", success_url="https://evil.example/x")
    )
    assert failure(lambda: stub.CreateCheckout(bad, metadata=owner)) == Failure(
        grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["checkout.success_url"]
    )
    created = checkout(stub, tokens("kc-owner"), ACME, "plans/isv-credits-10", request_id="k1")
    assert checkout(stub, tokens("kc-owner"), ACME, "plans/isv-credits-10", request_id="k1") == created
    assert service.provider is not None and created.checkout_url.startswith(service.provider.url)
    assert created.state == b.CHECKOUT_STATE_OPEN and created.amount.amount_minor == 5000
    assert balance(stub, tokens("kc-owner"), ACME) == 0  # not paid yet

    assert pay(created.checkout_url)["delivered"] == 200  # provider -> forwarder -> ReceivePaymentEvent
    done = stub.GetCheckout(b.GetCheckoutRequest(name=created.name), metadata=owner)
    assert done.state == b.CHECKOUT_STATE_COMPLETED and done.invoice
    invoice = stub.GetInvoice(b.GetInvoiceRequest(name=done.invoice), metadata=owner)
    assert invoice.state == b.INVOICE_STATE_PAID and invoice.total.amount_minor == 5000
    assert invoice.number.startswith("DI-") and invoice.receipt_url.startswith(service.provider.url)
    listed = stub.ListInvoices(b.ListInvoicesRequest(parent=ACME), metadata=owner).invoices
    assert [i.name for i in listed] == [invoice.name]
    credit = stub.GetCreditBalance(b.GetCreditBalanceRequest(name=f"{ACME}/creditBalance"), metadata=owner)
    entries = stub.ListLedgerEntries(b.ListLedgerEntriesRequest(parent=ACME), metadata=owner).ledger_entries
    assert credit.balance == 10 and [(e.kind, e.credits, e.name) for e in entries] == [
        (b.LEDGER_ENTRY_KIND_GRANT, 10, credit.last_ledger_entry)
    ]

    refund = provider_api(service, f"/v1/payments/{invoice.provider_reference}/refund")
    assert refund["delivered"] == 200 and balance(stub, tokens("kc-owner"), ACME) == 0
    assert provider_api(service, f"/v1/events/{refund['event']}/resend")["delivered"] == 200  # applied once
    refunded = stub.ListInvoices(b.ListInvoicesRequest(parent=ACME, state=b.INVOICE_STATE_REFUNDED), metadata=owner)
    assert [i.name for i in refunded.invoices] == [invoice.name]
    assert len(stub.ListLedgerEntries(b.ListLedgerEntriesRequest(parent=ACME), metadata=owner).ledger_entries) == 2


def test_a_subscription_through_the_provider_and_its_cancellation(
    stub: Stub, service: BillingService, neighbours: Neighbours, tokens: TokenFactory, clock: FakeClock
) -> None:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    owner = bearer(tokens("kc-owner"))
    created = checkout(stub, tokens("kc-owner"), ACME, "plans/isv-pro-monthly")
    pay(created.checkout_url)
    done = stub.GetCheckout(b.GetCheckoutRequest(name=created.name), metadata=owner)
    subscription = stub.GetSubscription(b.GetSubscriptionRequest(name=done.subscription), metadata=owner)
    assert subscription.state == b.SUBSCRIPTION_STATE_ACTIVE and subscription.plan == "plans/isv-pro-monthly"
    listed = stub.ListSubscriptions(b.ListSubscriptionsRequest(parent=ACME), metadata=owner).subscriptions
    assert [s.name for s in listed] == [subscription.name]
    again = failure(lambda: checkout(stub, tokens("kc-owner"), ACME, "plans/isv-pro-yearly"))
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_SUBSCRIBED")

    request = b.CancelSubscriptionRequest(name=subscription.name, reason="budget")
    canceling = stub.CancelSubscription(request, metadata=owner)
    assert canceling.state == b.SUBSCRIPTION_STATE_ACTIVE and canceling.cancel_at_period_end
    assert service.provider is not None
    reference = next(iter(service.provider.state.subscriptions))
    assert service.provider.state.subscriptions[reference]["cancel_at_period_end"] is True
    twice = failure(lambda: stub.CancelSubscription(request, metadata=owner))
    assert (twice.code, twice.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_CANCELING")
    clock.advance(days=32)
    assert service.app.jobs.run() == 1  # the period-end job on PostgreSQL
    ended = stub.GetSubscription(b.GetSubscriptionRequest(name=subscription.name), metadata=owner)
    assert ended.state == b.SUBSCRIPTION_STATE_EXPIRED and ended.HasField("end_time")


def test_credits_and_unlocks_ask_the_neighbours_as_billing(
    stub: Stub, service: BillingService, neighbours: Neighbours, tokens: TokenFactory, clock: FakeClock
) -> None:
    neighbours.add_member(PROGRAM, "kc-spender", PageRole.ADMIN)
    spender, admin = tokens("kc-spender", roles=("program",)), tokens("kc-staff", roles=("admin",))
    with pytest.raises(grpc.RpcError) as poor:
        unlock(stub, spender, "companies/isv-1", "r0")
    status = from_rpc_error(poor.value)
    info = error_info(status) if status else None
    assert poor.value.code() == grpc.StatusCode.FAILED_PRECONDITION and info is not None
    assert (info.reason, dict(info.metadata)) == ("INSUFFICIENT_CREDITS", {"balance": "0", "required": "1"})

    expires = timestamp_pb2.Timestamp()
    expires.FromDatetime(clock() + timedelta(days=1))
    entry = b.LedgerEntry(kind=b.LEDGER_ENTRY_KIND_GRANT, credits=1, expire_time=expires)
    promo = b.CreateLedgerEntryRequest(parent=PROGRAM, ledger_entry=entry, request_id="promo")
    granted = stub.CreateLedgerEntry(promo, metadata=bearer(admin))
    assert stub.CreateLedgerEntry(promo, metadata=bearer(admin)) == granted  # the request id on PostgreSQL
    grant(stub, admin, PROGRAM, 2)
    invalid = b.CreateLedgerEntryRequest(
        parent=PROGRAM, ledger_entry=b.LedgerEntry(kind=b.LEDGER_ENTRY_KIND_SPEND, credits=1), request_id="x"
    )
    assert failure(lambda: stub.CreateLedgerEntry(invalid, metadata=bearer(admin))).fields == ["ledger_entry.kind"]

    done = unlock(stub, spender, "companies/isv-1", "r1")  # CheckPageAccess, CheckBlocked, BatchGet: all asked
    assert done.cost == 1 and neighbours.calls["CheckPageAccess"] and neighbours.calls["CheckBlocked"]
    assert unlock(stub, spender, "companies/isv-1", "r2") == done
    assert stub.GetUnlock(b.GetUnlockRequest(name=done.name), metadata=bearer(spender)) == done
    listed = stub.ListUnlocks(b.ListUnlocksRequest(parent=PROGRAM), metadata=bearer(spender)).unlocks
    assert list(listed) == [done]
    neighbours.block(PROGRAM, "companies/foe")
    neighbours.missing.add("companies/ghost")
    neighbours.states["companies/pending"] = company_pb2.COMPANY_STATE_CLAIM_PENDING
    for target, expected in (
        ("companies/foe", (grpc.StatusCode.FAILED_PRECONDITION, "BLOCKED")),
        ("companies/ghost", (grpc.StatusCode.NOT_FOUND, "UNLOCK_TARGET_NOT_FOUND")),
        ("companies/pending", (grpc.StatusCode.FAILED_PRECONDITION, "UNLOCK_TARGET_INACTIVE")),
    ):
        refused = failure(partial(unlock, stub, spender, target, target))
        assert (refused.code, refused.reason) == expected
    assert balance(stub, spender, PROGRAM) == 2

    service_caller = bearer(tokens("service-company", roles=("service",)))
    answer = stub.HasUnlocked(b.HasUnlockedRequest(target="companies/isv-1", unlocker=PROGRAM), metadata=service_caller)
    assert answer.unlocked and list(answer.unlockers) == [PROGRAM] and answer.cache_ttl_seconds == 30
    by_member = stub.HasUnlocked(
        b.HasUnlockedRequest(target="companies/isv-1", subject="kc-spender"), metadata=service_caller
    )
    assert list(by_member.unlockers) == [PROGRAM]

    clock.advance(days=2)
    assert service.app.jobs.run() == 0  # the unlock spent the expiring credit first: nothing left to expire
    assert balance(stub, spender, PROGRAM) == 2


def test_page_tokens_are_bound_to_their_caller_and_filters(
    stub: Stub, neighbours: Neighbours, tokens: TokenFactory
) -> None:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    neighbours.add_member(ACME, "kc-admin", PageRole.ADMIN)
    admin = tokens("kc-staff", roles=("admin",))
    for _ in range(3):
        grant(stub, admin, ACME, 1)
    owner = bearer(tokens("kc-owner"))
    first = stub.ListLedgerEntries(b.ListLedgerEntriesRequest(parent=ACME, page_size=2), metadata=owner)
    rest = stub.ListLedgerEntries(
        b.ListLedgerEntriesRequest(parent=ACME, page_size=2, page_token=first.next_page_token), metadata=owner
    )
    assert [e.balance_after for e in [*first.ledger_entries, *rest.ledger_entries]] == [3, 2, 1]
    for refused in (
        lambda: stub.ListLedgerEntries(
            b.ListLedgerEntriesRequest(parent=ACME, page_token=first.next_page_token, kind=b.LEDGER_ENTRY_KIND_SPEND),
            metadata=owner,
        ),
        lambda: stub.ListLedgerEntries(
            b.ListLedgerEntriesRequest(parent=ACME, page_token=first.next_page_token),
            metadata=bearer(tokens("kc-admin")),
        ),
        lambda: stub.ListInvoices(b.ListInvoicesRequest(parent=ACME, page_token=first.next_page_token), metadata=owner),
    ):
        assert failure(refused).fields == ["page_token"]


def test_the_access_policy_of_every_rpc(stub: Stub, tokens: TokenFactory) -> None:
    """Anonymous callers reach the public catalogue only; HasUnlocked is for services. (What a
    signed-in caller may do on a page is the permission matrix of tests/unit.)"""
    requests = {
        "ListPlans": b.ListPlansRequest(),
        "GetPlan": b.GetPlanRequest(name="plans/isv-pro-monthly"),
        "ListSubscriptions": b.ListSubscriptionsRequest(parent=ACME),
        "GetSubscription": b.GetSubscriptionRequest(name=f"{ACME}/subscriptions/{MISSING}"),
        "CancelSubscription": b.CancelSubscriptionRequest(name=f"{ACME}/subscriptions/{MISSING}"),
        "ChangeSubscriptionPlan": b.ChangeSubscriptionPlanRequest(
            name=f"{ACME}/subscriptions/{MISSING}", plan="plans/isv-pro-monthly"
        ),
        "GetEntitlements": b.GetEntitlementsRequest(name=f"{ACME}/entitlements"),
        "CreateCheckout": b.CreateCheckoutRequest(parent=ACME),
        "GetCheckout": b.GetCheckoutRequest(name=f"{ACME}/checkouts/{MISSING}"),
        "GetCreditBalance": b.GetCreditBalanceRequest(name=f"{ACME}/creditBalance"),
        "ListLedgerEntries": b.ListLedgerEntriesRequest(parent=ACME),
        "CreateLedgerEntry": b.CreateLedgerEntryRequest(parent=ACME),
        "CreateUnlock": b.CreateUnlockRequest(parent=ACME),
        "GetUnlock": b.GetUnlockRequest(name=f"{ACME}/unlocks/{MISSING}"),
        "ListUnlocks": b.ListUnlocksRequest(parent=ACME),
        "ListInvoices": b.ListInvoicesRequest(parent=ACME),
        "GetInvoice": b.GetInvoiceRequest(name=f"{ACME}/invoices/{MISSING}"),
        "HasUnlocked": b.HasUnlockedRequest(target=ACME, unlocker=PROGRAM),
        # Public, but the signature is the credential: an unsigned body is refused for everyone.
        "ReceivePaymentEvent": b.ReceivePaymentEventRequest(body=httpbody_pb2.HttpBody(data=b"{}")),
    }
    assert set(requests) == set(b.DESCRIPTOR.services_by_name["BillingService"].methods_by_name)

    def code(rpc: str, metadata: tuple[tuple[str, str], ...]) -> grpc.StatusCode:
        try:
            getattr(stub, rpc)(requests[rpc], metadata=metadata)
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    anonymous = {rpc: code(rpc, ()) for rpc in requests}
    public = {rpc for rpc, status in anonymous.items() if status != grpc.StatusCode.UNAUTHENTICATED}
    assert public == {"ListPlans", "GetPlan"}
    stranger = bearer(tokens("kc-stranger"))
    assert code("HasUnlocked", stranger) == grpc.StatusCode.PERMISSION_DENIED  # service-only
    assert code("HasUnlocked", bearer(tokens("service-company", roles=("service",)))) == grpc.StatusCode.OK
    assert code("ReceivePaymentEvent", stranger) == grpc.StatusCode.UNAUTHENTICATED
    assert code("GetCreditBalance", stranger) == grpc.StatusCode.PERMISSION_DENIED  # signed in, not a member
    assert code("GetEntitlements", stranger) == grpc.StatusCode.PERMISSION_DENIED
    assert code("GetEntitlements", bearer(tokens("service-matching", roles=("service",)))) == grpc.StatusCode.OK


def test_payment_events_are_signed_in_a_header_and_the_forwarder_maps_their_status(
    stub: Stub, service: BillingService, clock: FakeClock
) -> None:
    body = json.dumps({"id": "evt_1", "type": "checkout.expired", "created": 1, "data": {"checkout": "cs_x"}}).encode()
    request = b.ReceivePaymentEventRequest(body=httpbody_pb2.HttpBody(content_type="application/json", data=body))
    signed = (("x-payment-signature", signature_header(body, WEBHOOK_SECRET, int(clock().timestamp()))),)
    refused = failure(lambda: stub.ReceivePaymentEvent(request, metadata=signed))
    assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "CHECKOUT_UNKNOWN")  # verified, then read
    unsigned = failure(lambda: stub.ReceivePaymentEvent(request))
    assert (unsigned.code, unsigned.reason) == (grpc.StatusCode.UNAUTHENTICATED, "SIGNATURE_MISSING")

    assert service.forwarder is not None
    for headers, status in (({}, 401), (dict(signed), 404)):
        forwarded = urllib.request.Request(service.forwarder.url, data=body, method="POST", headers=headers)  # noqa: S310
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(forwarded, timeout=5)  # noqa: S310
        assert error.value.code == status
    wrong_path = urllib.request.Request(service.forwarder.url + "/x", data=body, method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(wrong_path, timeout=5)  # noqa: S310
    assert error.value.code == 404

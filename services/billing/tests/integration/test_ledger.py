"""The ledger: refunds (of payments and by staff), staff grants, expiry, balance and history."""

from __future__ import annotations

import json
from datetime import timedelta

import grpc
import pytest
from google.api import httpbody_pb2
from google.protobuf import timestamp_pb2

from billing_service.bootstrap import BillingService
from billing_service.domain.payment_events import signature_header
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.grpc.status import field_violations, from_rpc_error
from devinsider_common.pages.roles import PageRole

from ..conftest import WEBHOOK_SECRET, Clock, TokenFactory, bearer
from ..helpers import balance, checkout, failure, grant, pay, provider_api, session, unlock
from ..neighbours import Neighbours

ACME = "companies/acme"
L = billing_pb2


@pytest.fixture
def owner(neighbours: Neighbours, token: TokenFactory) -> str:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    return token("kc-owner")


@pytest.fixture
def admin(token: TokenFactory) -> str:
    return token("kc-staff", roles=("admin",))


def entries(stub: billing_pb2_grpc.BillingServiceStub, owner: str, **filters: object) -> list[tuple[int, int, int]]:
    listed = stub.ListLedgerEntries(
        billing_pb2.ListLedgerEntriesRequest(parent=ACME, page_size=200, **filters),  # type: ignore[arg-type]
        metadata=bearer(owner),
    )
    return [(e.kind, e.credits, e.balance_after) for e in reversed(listed.ledger_entries)]


def test_a_refunded_payment_withdraws_what_is_left_of_its_credits(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str
) -> None:
    created = checkout(stub, owner, ACME, "plans/isv-credits-10")
    pay(created.checkout_url)
    for i in range(3):
        unlock(stub, owner, f"investors/vc{i}", f"r{i}", parent=ACME)
    assert balance(stub, owner, ACME) == 7
    payment = session(service, created.provider_reference)["payment"]
    refund = provider_api(service, f"/v1/payments/{payment}/refund")
    assert refund["delivered"] == 200
    assert balance(stub, owner, ACME) == 0
    assert entries(stub, owner) == [
        (L.LEDGER_ENTRY_KIND_GRANT, 10, 10),
        (L.LEDGER_ENTRY_KIND_SPEND, -1, 9),
        (L.LEDGER_ENTRY_KIND_SPEND, -1, 8),
        (L.LEDGER_ENTRY_KIND_SPEND, -1, 7),
        (L.LEDGER_ENTRY_KIND_EXPIRE, -7, 0),
    ]
    invoices = stub.ListInvoices(billing_pb2.ListInvoicesRequest(parent=ACME), metadata=bearer(owner)).invoices
    assert [i.state for i in invoices] == [L.INVOICE_STATE_REFUNDED]
    refunded_only = stub.ListInvoices(
        billing_pb2.ListInvoicesRequest(parent=ACME, state=L.INVOICE_STATE_PAID), metadata=bearer(owner)
    )
    assert list(refunded_only.invoices) == []
    # Unlocks never expire, even when the credits that paid for them were refunded.
    assert len(stub.ListUnlocks(billing_pb2.ListUnlocksRequest(parent=ACME), metadata=bearer(owner)).unlocks) == 3
    # The provider's retry of the refund changes nothing.
    provider_api(service, f"/v1/events/{refund['event']}/resend")
    assert len(entries(stub, owner)) == 5


def test_a_refund_in_another_currency_is_refused(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str, clock: Clock
) -> None:
    created = checkout(stub, owner, ACME, "plans/isv-credits-10")
    pay(created.checkout_url)
    payment = session(service, created.provider_reference)["payment"]
    event = {
        "id": "evt_r",
        "type": "payment.refunded",
        "created": 1,
        "data": {"payment": payment, "amount": 5000, "currency": "USD"},
    }
    body = json.dumps(event).encode()
    header = signature_header(body, WEBHOOK_SECRET, int(clock().timestamp()))
    request = billing_pb2.ReceivePaymentEventRequest(body=httpbody_pb2.HttpBody(data=body))
    with pytest.raises(grpc.RpcError) as error:
        stub.ReceivePaymentEvent(request, metadata=(("x-payment-signature", header),))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert balance(stub, owner, ACME) == 10


def test_staff_grants_and_refunds_are_idempotent(
    stub: billing_pb2_grpc.BillingServiceStub, owner: str, admin: str, token: TokenFactory
) -> None:
    entry = billing_pb2.LedgerEntry(kind=L.LEDGER_ENTRY_KIND_REFUND, credits=2, description="goodwill")
    request = billing_pb2.CreateLedgerEntryRequest(parent=ACME, ledger_entry=entry, request_id="refund-1")
    first = stub.CreateLedgerEntry(request, metadata=bearer(admin))
    assert (first.kind, first.credits, first.balance_after, first.creator) == (
        L.LEDGER_ENTRY_KIND_REFUND,
        2,
        2,
        "kc-staff",
    )
    assert stub.CreateLedgerEntry(request, metadata=bearer(admin)) == first
    service_token = token("service-crm", roles=("service",))
    grant(stub, service_token, ACME, 3)
    assert balance(stub, owner, ACME) == 5
    code, _ = failure(lambda: stub.CreateLedgerEntry(request, metadata=bearer(owner)))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # page owners do not print credits


@pytest.mark.parametrize(
    ("entry", "request_id", "field"),
    [
        (billing_pb2.LedgerEntry(kind=L.LEDGER_ENTRY_KIND_SPEND, credits=1), "r", "ledger_entry.kind"),
        (billing_pb2.LedgerEntry(kind=L.LEDGER_ENTRY_KIND_EXPIRE, credits=1), "r", "ledger_entry.kind"),
        (billing_pb2.LedgerEntry(credits=1), "r", "ledger_entry.kind"),
        (billing_pb2.LedgerEntry(kind=L.LEDGER_ENTRY_KIND_GRANT, credits=-5), "r", "ledger_entry.credits"),
        (billing_pb2.LedgerEntry(kind=L.LEDGER_ENTRY_KIND_GRANT, credits=0), "r", "ledger_entry.credits"),
        (billing_pb2.LedgerEntry(kind=L.LEDGER_ENTRY_KIND_GRANT, credits=10**9), "r", "ledger_entry.credits"),
        (billing_pb2.LedgerEntry(kind=L.LEDGER_ENTRY_KIND_GRANT, credits=1), "", "request_id"),
        (
            billing_pb2.LedgerEntry(
                kind=L.LEDGER_ENTRY_KIND_GRANT, credits=1, expire_time=timestamp_pb2.Timestamp(seconds=1)
            ),
            "r",
            "ledger_entry.expire_time",
        ),
        (
            billing_pb2.LedgerEntry(kind=L.LEDGER_ENTRY_KIND_GRANT, credits=1, description="x" * 501),
            "r",
            "ledger_entry.description",
        ),
    ],
)
def test_bad_ledger_entries_name_the_field(
    stub: billing_pb2_grpc.BillingServiceStub,
    admin: str,
    owner: str,
    entry: billing_pb2.LedgerEntry,
    request_id: str,
    field: str,
) -> None:
    request = billing_pb2.CreateLedgerEntryRequest(parent=ACME, ledger_entry=entry, request_id=request_id)
    with pytest.raises(grpc.RpcError) as error:
        stub.CreateLedgerEntry(request, metadata=bearer(admin))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = from_rpc_error(error.value)
    assert status is not None and field in [v.field for v in field_violations(status)]
    assert balance(stub, owner, ACME) == 0


def test_granted_credits_expire_and_the_balance_says_so_beforehand(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str, admin: str, clock: Clock
) -> None:
    expires = timestamp_pb2.Timestamp()
    expires.FromDatetime(clock() + timedelta(days=10))
    entry = billing_pb2.LedgerEntry(kind=L.LEDGER_ENTRY_KIND_GRANT, credits=4, expire_time=expires)
    stub.CreateLedgerEntry(
        billing_pb2.CreateLedgerEntryRequest(parent=ACME, ledger_entry=entry, request_id="promo"),
        metadata=bearer(admin),
    )
    grant(stub, admin, ACME, 2)  # never expires
    unlock(stub, owner, "investors/vc", "u1", parent=ACME)  # spends the expiring credits first
    soon = stub.GetCreditBalance(
        billing_pb2.GetCreditBalanceRequest(name=f"{ACME}/creditBalance"), metadata=bearer(owner)
    )
    assert (soon.balance, soon.expiring_soon) == (5, 3) and soon.last_ledger_entry.startswith(f"{ACME}/ledgerEntries/")
    assert service.app.jobs.run() == 0
    clock.advance(timedelta(days=11))
    assert service.app.jobs.run() == 1
    assert entries(stub, owner, kind=L.LEDGER_ENTRY_KIND_EXPIRE) == [(L.LEDGER_ENTRY_KIND_EXPIRE, -3, 2)]
    assert balance(stub, owner, ACME) == 2
    assert service.app.jobs.run() == 0  # expired once


def test_ledger_history_pages_newest_first_and_rejects_foreign_tokens(
    stub: billing_pb2_grpc.BillingServiceStub, owner: str, admin: str
) -> None:
    for _ in range(5):
        grant(stub, admin, ACME, 1)
    seen: list[int] = []
    page_token = ""
    while True:
        page = stub.ListLedgerEntries(
            billing_pb2.ListLedgerEntriesRequest(parent=ACME, page_size=2, page_token=page_token),
            metadata=bearer(owner),
        )
        seen += [e.balance_after for e in page.ledger_entries]
        page_token = page.next_page_token
        if not page_token:
            break
    assert seen == [5, 4, 3, 2, 1]
    first = stub.ListLedgerEntries(
        billing_pb2.ListLedgerEntriesRequest(parent=ACME, page_size=2), metadata=bearer(owner)
    )
    for bad in (
        billing_pb2.ListLedgerEntriesRequest(parent=ACME, page_token="garbage"),
        billing_pb2.ListLedgerEntriesRequest(
            parent=ACME, page_token=first.next_page_token, kind=L.LEDGER_ENTRY_KIND_SPEND
        ),
        billing_pb2.ListLedgerEntriesRequest(parent=ACME, page_size=-1),
        billing_pb2.ListLedgerEntriesRequest(parent=ACME, kind=99),  # type: ignore[arg-type]
    ):
        code, _ = failure(lambda bad=bad: stub.ListLedgerEntries(bad, metadata=bearer(owner)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT

"""Buying through the local provider: nothing is granted until its signed webhook confirms."""

from __future__ import annotations

import grpc
import pytest

from billing_service.bootstrap import BillingService
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.pages.roles import PageRole

from ..conftest import TokenFactory, bearer
from ..helpers import balance, checkout, pay, session
from ..neighbours import Neighbours

ACME = "companies/acme"


@pytest.fixture
def owner(neighbours: Neighbours, token: TokenFactory) -> str:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    return token("kc-owner")


def test_a_credit_pack_is_granted_only_when_the_provider_confirms(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str
) -> None:
    created = checkout(stub, owner, ACME, "plans/isv-credits-10")
    assert created.state == billing_pb2.CHECKOUT_STATE_OPEN
    assert created.amount.currency_code == "EUR" and created.amount.amount_minor == 5000
    assert created.checkout_url.startswith(service.provider.url if service.provider else "?")
    assert balance(stub, owner, ACME) == 0  # not paid yet

    delivery = pay(created.checkout_url)
    assert delivery["delivered"] == 200

    done = stub.GetCheckout(billing_pb2.GetCheckoutRequest(name=created.name), metadata=bearer(owner))
    assert done.state == billing_pb2.CHECKOUT_STATE_COMPLETED and done.invoice
    assert balance(stub, owner, ACME) == 10
    invoice = stub.GetInvoice(billing_pb2.GetInvoiceRequest(name=done.invoice), metadata=bearer(owner))
    assert invoice.state == billing_pb2.INVOICE_STATE_PAID and invoice.total.amount_minor == 5000
    assert (
        invoice.number.startswith("DI-")
        and invoice.provider_reference == session(service, done.provider_reference)["payment"]
    )
    entries = stub.ListLedgerEntries(billing_pb2.ListLedgerEntriesRequest(parent=ACME), metadata=bearer(owner))
    assert [(e.kind, e.credits, e.balance_after) for e in entries.ledger_entries] == [
        (billing_pb2.LEDGER_ENTRY_KIND_GRANT, 10, 10)
    ]


def test_a_declined_payment_grants_nothing(stub: billing_pb2_grpc.BillingServiceStub, owner: str) -> None:
    created = checkout(stub, owner, ACME, "plans/isv-credits-10")
    pay(created.checkout_url, "fail")
    done = stub.GetCheckout(billing_pb2.GetCheckoutRequest(name=created.name), metadata=bearer(owner))
    assert done.state == billing_pb2.CHECKOUT_STATE_FAILED
    assert balance(stub, owner, ACME) == 0


def test_checkout_rejects_bad_input(stub: billing_pb2_grpc.BillingServiceStub, owner: str) -> None:
    request = billing_pb2.CreateCheckoutRequest(
        parent=ACME, checkout=billing_pb2.Checkout(plan="plans/isv-credits-10", success_url="https://evil.example/x")
    )
    with pytest.raises(grpc.RpcError) as error:
        stub.CreateCheckout(request, metadata=bearer(owner))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT

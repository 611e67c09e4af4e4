"""The provider's webhook: signed, replay-safe, and strict about amounts and currencies."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.api import httpbody_pb2

from billing_service.bootstrap import BillingService
from billing_service.domain.payment_events import signature_header
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.grpc.status import field_violations, from_rpc_error
from devinsider_common.pages.roles import PageRole

from ..conftest import WEBHOOK_SECRET, Clock, TokenFactory, bearer
from ..helpers import balance, checkout, pay, provider_api
from ..neighbours import Neighbours

ACME = "companies/acme"


@pytest.fixture
def owner(neighbours: Neighbours, token: TokenFactory) -> str:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    return token("kc-owner")


def send(
    stub: billing_pb2_grpc.BillingServiceStub,
    clock: Clock,
    event: dict[str, Any],
    secret: str = WEBHOOK_SECRET,
    age: int = 0,
) -> None:
    body = json.dumps(event).encode()
    stamp = int(clock().timestamp()) - age
    request = billing_pb2.ReceivePaymentEventRequest(
        body=httpbody_pb2.HttpBody(content_type="application/json", data=body)
    )
    stub.ReceivePaymentEvent(request, metadata=(("x-payment-signature", signature_header(body, secret, stamp)),))


def completed(reference: str, amount: int, currency: str = "EUR", event_id: str = "evt_forged") -> dict[str, Any]:
    data = {"checkout": reference, "payment": "pay_forged", "amount": amount, "currency": currency}
    return {"id": event_id, "type": "checkout.completed", "created": 1, "data": data}


def checkout_state(stub: billing_pb2_grpc.BillingServiceStub, owner: str, name: str) -> int:
    return stub.GetCheckout(billing_pb2.GetCheckoutRequest(name=name), metadata=bearer(owner)).state


def test_a_replayed_delivery_changes_nothing(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, owner: str, clock: Clock
) -> None:
    created = checkout(stub, owner, ACME, "plans/isv-credits-10")
    first = pay(created.checkout_url)
    assert first["delivered"] == 200 and balance(stub, owner, ACME) == 10
    again = provider_api(service, f"/v1/events/{first['event']}/resend")
    assert again["delivered"] == 200  # acknowledged, so the provider stops retrying...
    assert balance(stub, owner, ACME) == 10  # ...and nothing granted twice
    clock.advance(timedelta(seconds=service.settings.payment_webhook_tolerance_seconds + 1))
    stale = provider_api(service, f"/v1/events/{first['event']}/resend")
    assert stale["delivered"] == 401  # outside the window: refused before anything is looked up
    assert balance(stub, owner, ACME) == 10


@pytest.mark.parametrize(
    ("secret", "age", "header"),
    [
        ("wrong-secret", 0, None),
        (WEBHOOK_SECRET, 301, None),
        (WEBHOOK_SECRET, -301, None),
        (WEBHOOK_SECRET, 0, ""),
        (WEBHOOK_SECRET, 0, "t=1,v1=00"),
    ],
)
def test_unsigned_wrongly_signed_or_stale_events_are_unauthenticated_and_change_nothing(
    stub: billing_pb2_grpc.BillingServiceStub, owner: str, clock: Clock, secret: str, age: int, header: str | None
) -> None:
    created = checkout(stub, owner, ACME, "plans/isv-credits-10")
    event = completed(created.provider_reference, 5000)
    with pytest.raises(grpc.RpcError) as error:
        if header is None:
            send(stub, clock, event, secret=secret, age=age)
        else:
            body = httpbody_pb2.HttpBody(data=json.dumps(event).encode())
            metadata = (("x-payment-signature", header),) if header else ()
            stub.ReceivePaymentEvent(billing_pb2.ReceivePaymentEventRequest(body=body), metadata=metadata)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert checkout_state(stub, owner, created.name) == billing_pb2.CHECKOUT_STATE_OPEN
    assert balance(stub, owner, ACME) == 0
    send(stub, clock, event)  # the same event id, properly signed, still applies: nothing was recorded
    assert balance(stub, owner, ACME) == 10


def test_the_forwarder_refuses_an_unsigned_http_callback(service: BillingService) -> None:
    assert service.forwarder is not None
    request = urllib.request.Request(service.forwarder.url, data=b"{}", method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
    assert error.value.code == 401


def test_an_event_id_seen_before_changes_nothing(
    stub: billing_pb2_grpc.BillingServiceStub, owner: str, clock: Clock
) -> None:
    first = checkout(stub, owner, ACME, "plans/isv-credits-10", request_id="a")
    second = checkout(stub, owner, ACME, "plans/isv-credits-10", request_id="b")
    send(stub, clock, completed(first.provider_reference, 5000, event_id="evt_same"))
    send(stub, clock, completed(second.provider_reference, 5000, event_id="evt_same"))  # same id, other payload
    assert checkout_state(stub, owner, second.name) == billing_pb2.CHECKOUT_STATE_OPEN
    assert balance(stub, owner, ACME) == 10


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(4999, "EUR"), (5001, "EUR"), (0, "EUR"), (5000, "USD"), (5000, "GBP")],
)
def test_an_amount_or_currency_mismatch_fails_the_checkout_and_grants_nothing(
    stub: billing_pb2_grpc.BillingServiceStub, owner: str, clock: Clock, amount: int, currency: str
) -> None:
    created = checkout(stub, owner, ACME, "plans/isv-credits-10")
    send(stub, clock, completed(created.provider_reference, amount, currency))
    assert checkout_state(stub, owner, created.name) == billing_pb2.CHECKOUT_STATE_FAILED
    assert balance(stub, owner, ACME) == 0
    send(stub, clock, completed(created.provider_reference, 5000, event_id="evt_late"))  # a later good event: too late
    assert balance(stub, owner, ACME) == 0
    invoices = stub.ListInvoices(billing_pb2.ListInvoicesRequest(parent=ACME), metadata=bearer(owner))
    assert list(invoices.invoices) == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": -5000, "currency": "EUR"}, "body.data.amount"),
        ({"amount": "5000", "currency": "EUR"}, "body.data.amount"),
        ({"amount": 50.0, "currency": "EUR"}, "body.data.amount"),
        ({"amount": 5000, "currency": "eur"}, "body.data.currency"),
        ({"amount": 5000}, "body.data.currency"),
    ],
)
def test_negative_and_malformed_amounts_are_invalid_and_change_nothing(
    stub: billing_pb2_grpc.BillingServiceStub, owner: str, clock: Clock, data: dict[str, Any], field: str
) -> None:
    created = checkout(stub, owner, ACME, "plans/isv-credits-10")
    event = completed(created.provider_reference, 0)
    event["data"].update(data)
    if "currency" not in data:
        event["data"].pop("currency")
    with pytest.raises(grpc.RpcError) as error:
        send(stub, clock, event)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = from_rpc_error(error.value)
    assert status is not None and field in [v.field for v in field_violations(status)]
    assert checkout_state(stub, owner, created.name) == billing_pb2.CHECKOUT_STATE_OPEN
    send(stub, clock, completed(created.provider_reference, 5000))  # the corrected event, same id, applies
    assert balance(stub, owner, ACME) == 10


def test_malformed_bodies_are_invalid(stub: billing_pb2_grpc.BillingServiceStub, clock: Clock) -> None:
    for body in (b"not json", b"[1]", b'{"id": "e", "type": "nope", "created": 1, "data": {}}'):
        stamp = int(clock().timestamp())
        request = billing_pb2.ReceivePaymentEventRequest(body=httpbody_pb2.HttpBody(data=body))
        with pytest.raises(grpc.RpcError) as error:
            stub.ReceivePaymentEvent(
                request, metadata=(("x-payment-signature", signature_header(body, WEBHOOK_SECRET, stamp)),)
            )
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_an_event_for_an_unknown_checkout_is_not_found_so_the_provider_retries(
    stub: billing_pb2_grpc.BillingServiceStub, clock: Clock
) -> None:
    with pytest.raises(grpc.RpcError) as error:
        send(stub, clock, completed("cs_unknown", 5000))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_checkout_request_ids_make_retries_safe(stub: billing_pb2_grpc.BillingServiceStub, owner: str) -> None:
    first = checkout(stub, owner, ACME, "plans/isv-credits-10", request_id="same")
    again = checkout(stub, owner, ACME, "plans/isv-credits-10", request_id="same")
    assert first.name == again.name and first.checkout_url == again.checkout_url

"""The payment provider's side: the HTTP client (adapters/payment_provider.py) and the local
provider (its API, hosted pages, receipts, signed callbacks), with its callbacks delivered over
HTTP to the use cases on the in-memory unit of work. The events it sends are the ones the webhook
understands; the HTTP -> gRPC forwarder is tests/integration/test_rpcs.py."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest

from billing_service.adapters.local_provider.provider import LocalPaymentProvider
from billing_service.adapters.local_provider.running import payment_provider
from billing_service.adapters.local_provider.webhooks import WebhookSender
from billing_service.adapters.payment_provider import HttpPaymentProvider
from billing_service.domain.checkouts import CheckoutState
from billing_service.domain.money import Money
from billing_service.domain.plans import Interval
from billing_service.domain.subscriptions import SubscriptionState
from billing_service.service_layer.ports import CheckoutRequest
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.failures import failure, failure_of

from ..harness import ACME, NOW, ORIGIN, SECRET, Billing, new_billing, settings
from ..helpers import http_json

API_KEY = "test-provider-key"
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
}


class Endpoint:
    """An HTTP server answering POSTs with `answer(body, headers) -> (status, bytes)`."""

    def __init__(self, answer: Any) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = answer(body, self.headers)
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def webhook_of(billing: Billing) -> Endpoint:
    """What Envoy and the forwarder do: the signed body to ReceivePaymentEvent, its status back."""

    def answer(body: bytes, headers: Any) -> tuple[int, bytes]:
        try:
            billing.app.payments.receive(body, headers.get("X-Payment-Signature"))
        except errors.DomainError as error:
            return HTTP_STATUS.get(failure_of(error).code, 503), b""
        return 200, b""

    return Endpoint(answer)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def local(clock: FakeClock) -> LocalPaymentProvider:
    return LocalPaymentProvider(API_KEY, SECRET, clock=lambda: clock().timestamp())


@pytest.fixture
def billing(clock: FakeClock, local: LocalPaymentProvider) -> Iterator[Billing]:
    """Billing whose provider is the local one, its callbacks going to the use cases over HTTP."""
    billing = new_billing(clock=clock, gateway=HttpPaymentProvider(local.url, API_KEY))
    endpoint = webhook_of(billing)
    local.start(f"{endpoint.url}/v1/webhooks/payments")
    yield billing
    local.stop()
    endpoint.stop()


@pytest.fixture
def owner(billing: Billing) -> Principal:
    return billing.member(ACME, "kc-owner")


def checkout_request() -> CheckoutRequest:
    return CheckoutRequest(
        "companies/acme/checkouts/c1",
        "pack",
        Money("EUR", 100),
        Interval.NONE,
        0,
        f"{ORIGIN}/ok",
        f"{ORIGIN}/ok",
        NOW,
        "",
    )


def get(url: str, api_key: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 - a local test server
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def api(local: LocalPaymentProvider, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return http_json(f"{local.url}{path}", payload or {}, API_KEY)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_the_hosted_page_takes_a_form_post_and_redirects_the_buyer(billing: Billing, owner: Principal) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-50")
    status, page = get(created.checkout_url)
    assert status == 200 and "50 credits (ISV)" in page and "200.00 EUR" in page
    form = urllib.parse.urlencode({"action": "pay"}).encode()
    request = urllib.request.Request(created.checkout_url, data=form, method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    assert redirect.value.code == 303 and redirect.value.headers["Location"] == f"{ORIGIN}/done"
    assert billing.balance(ACME) == 50  # the signed callback came before the redirect
    with pytest.raises(urllib.error.HTTPError) as again:  # a session is paid once
        http_json(created.checkout_url, {"action": "pay"})
    assert again.value.code == 400

    declined = billing.app.checkouts.create(owner, ACME, "isv-credits-10", f"{ORIGIN}/ok", f"{ORIGIN}/back", "")
    request = urllib.request.Request(declined.checkout_url, data=b"action=fail", method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with pytest.raises(urllib.error.HTTPError) as back:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    assert back.value.headers["Location"] == f"{ORIGIN}/back"
    failed = billing.app.checkouts.get(owner, ACME, declined.id)
    assert (failed.state, failed.failure_reason) == (CheckoutState.FAILED, "card declined")


def test_sessions_expire_and_events_can_be_resent_within_the_signature_window(
    local: LocalPaymentProvider, billing: Billing, owner: Principal
) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    session = get(f"{local.url}/v1/checkout_sessions/{created.provider_reference}", API_KEY)
    assert session[0] == 200 and json.loads(session[1])["reference"] == created.name
    delivered = http_json(created.checkout_url, {"action": "expire"})
    assert delivered["delivered"] == 200
    assert billing.app.checkouts.get(owner, ACME, created.id).state is CheckoutState.EXPIRED
    again = api(local, f"/v1/events/{delivered['event']}/resend")
    assert again["delivered"] == 200  # acknowledged, changes nothing
    billing.clock.advance(seconds=billing.settings.payment_webhook_tolerance_seconds + 1)
    assert api(local, f"/v1/events/{delivered['event']}/resend")["delivered"] == 401  # stale


def test_the_api_wants_its_key_and_names_what_it_does_not_know(local: LocalPaymentProvider, billing: Billing) -> None:
    url = local.url
    for key in ("wrong", ""):
        with pytest.raises(urllib.error.HTTPError) as error:
            http_json(f"{url}/v1/checkout_sessions", {"amount": 1}, api_key=key)
        assert error.value.code == 401
    assert get(f"{url}/v1/checkout_sessions/cs_x", "wrong")[0] == 401
    assert get(f"{url}/v1/checkout_sessions/cs_x", API_KEY)[0] == 404
    assert get(f"{url}/pay/cs_x")[0] == 404
    assert get(f"{url}/elsewhere")[0] == 404
    for path, payload, status in (
        ("/v1/checkout_sessions", {"amount": 1}, 400),  # not a session
        ("/v1/subscriptions/sub_x/renew", {}, 404),
        ("/v1/nothing", {}, 404),
    ):
        with pytest.raises(urllib.error.HTTPError) as error:
            api(local, path, payload)
        assert error.value.code == status
    with pytest.raises(urllib.error.HTTPError) as not_an_object:
        http_json(f"{url}/v1/checkout_sessions", [1], API_KEY)
    assert not_an_object.value.code == 400
    session = HttpPaymentProvider(url, API_KEY).create_checkout(checkout_request())
    with pytest.raises(urllib.error.HTTPError) as unknown_action:
        http_json(session.url, {"action": "dance"})
    assert unknown_action.value.code == 400
    refused = failure(lambda: HttpPaymentProvider(url, "wrong").cancel_subscription("sub_x", True))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PROVIDER_REFUSED")


def test_receipts_show_the_payment_and_its_refund(
    local: LocalPaymentProvider, billing: Billing, owner: Principal
) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-50")
    http_json(created.checkout_url, {"action": "pay"})
    done = billing.app.checkouts.get(owner, ACME, created.id)
    invoice = billing.app.invoices.get(owner, ACME, done.invoice_id)
    assert invoice.receipt_url == f"{local.url}/receipts/{invoice.provider_reference}"
    status, shown = get(invoice.receipt_url)
    assert status == 200 and invoice.provider_reference in shown and "200.00 EUR" in shown
    assert "50 credits" in shown and "Refunded" not in shown
    refund = api(local, f"/v1/payments/{invoice.provider_reference}/refund")
    assert refund["delivered"] == 200 and billing.balance(ACME) == 0
    assert "Refunded" in get(invoice.receipt_url)[1]
    with pytest.raises(urllib.error.HTTPError) as twice:
        api(local, f"/v1/payments/{invoice.provider_reference}/refund")
    assert twice.value.code == 400
    assert get(f"{invoice.receipt_url}-nope")[0] == 404


def test_subscriptions_renew_fail_and_cancel_at_the_provider(
    local: LocalPaymentProvider, billing: Billing, owner: Principal
) -> None:
    created = billing.checkout(owner, ACME, "isv-starter-monthly")
    http_json(created.checkout_url, {"action": "pay"})  # a trial: nothing paid now
    done = billing.app.checkouts.get(owner, ACME, created.id)
    subscription = billing.app.subscriptions.get(owner, ACME, done.subscription_id)
    assert subscription.state is SubscriptionState.TRIALING and billing.balance(ACME) == 10
    reference = subscription.provider_reference
    assert api(local, f"/v1/subscriptions/{reference}/renew", {"outcome": "failed"})["delivered"] == 200
    assert billing.app.subscriptions.get(owner, ACME, subscription.id).state is SubscriptionState.PAST_DUE
    start = int(subscription.current_period_end.timestamp())
    period = {"period_start": start, "period_end": start + 86400 * 30}
    assert api(local, f"/v1/subscriptions/{reference}/renew", period)["delivered"] == 200
    renewed = billing.app.subscriptions.get(owner, ACME, subscription.id)
    assert (
        renewed.state is SubscriptionState.ACTIVE and int(renewed.current_period_end.timestamp()) == start + 86400 * 30
    )
    [invoice], _ = billing.app.invoices.list_invoices(owner, ACME, 0, "", None)
    assert invoice.total.amount_minor == 4900 and invoice.receipt_url.endswith(
        f"/receipts/{invoice.provider_reference}"
    )
    canceling = billing.app.subscriptions.cancel(owner, ACME, subscription.id, False, "")
    assert canceling.cancel_at_period_end
    assert local.state.subscriptions[reference]["cancel_at_period_end"] is True
    billing.app.subscriptions.cancel(owner, ACME, subscription.id, True, "")
    assert local.state.subscriptions[reference]["canceled"] is True
    with pytest.raises(urllib.error.HTTPError) as refused:
        api(local, f"/v1/subscriptions/{reference}/renew")
    assert refused.value.code == 400


def test_plan_changes_charge_the_subscription_and_change_its_price_at_the_provider(
    local: LocalPaymentProvider, billing: Billing, owner: Principal, clock: FakeClock
) -> None:
    created = billing.checkout(owner, ACME, "isv-starter-monthly")
    http_json(created.checkout_url, {"action": "pay"})  # the trial
    subscription_id = billing.app.checkouts.get(owner, ACME, created.id).subscription_id
    trial = billing.app.subscriptions.get(owner, ACME, subscription_id)
    reference, paid_from = trial.provider_reference, int(trial.current_period_end.timestamp())
    clock.advance(days=14)  # the trial ends: the first paid period
    period = {"period_start": paid_from, "period_end": paid_from + 86400 * 30}
    api(local, f"/v1/subscriptions/{reference}/renew", period)
    assert billing.balance(ACME) == 20  # the trial's and the first paid period's

    # The card declines: refused, nothing changes on either side.
    api(local, f"/v1/subscriptions/{reference}/payment_method", {"declines": True})
    refused = failure(lambda: billing.app.plan_changes.change(owner, ACME, subscription_id, "isv-pro-monthly", ""))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PAYMENT_DECLINED")
    assert local.state.subscriptions[reference]["amount"] == 4900
    assert billing.app.subscriptions.get(owner, ACME, subscription_id).plan_id == "isv-starter-monthly"

    api(local, f"/v1/subscriptions/{reference}/payment_method", {"declines": False})
    upgraded = billing.app.plan_changes.change(owner, ACME, subscription_id, "isv-pro-monthly", "")
    assert upgraded.plan_id == "isv-pro-monthly" and local.state.subscriptions[reference]["amount"] == 9900
    invoice = billing.app.invoices.list_invoices(owner, ACME, 0, "", None)[0][0]
    assert invoice.total.amount_minor == 5000  # the whole period was left
    assert local.state.payments[invoice.provider_reference]["amount"] == 5000
    assert get(invoice.receipt_url)[0] == 200 and billing.balance(ACME) == 35

    # A downgrade: the provider charges the lower price from the next cycle on, and billing follows.
    billing.app.plan_changes.change(owner, ACME, subscription_id, "isv-starter-monthly", "")
    assert local.state.subscriptions[reference]["amount"] == 9900
    assert api(local, f"/v1/subscriptions/{reference}/renew")["delivered"] == 200
    renewed = billing.app.subscriptions.get(owner, ACME, subscription_id)
    assert (renewed.plan_id, renewed.state) == ("isv-starter-monthly", SubscriptionState.ACTIVE)
    assert local.state.subscriptions[reference]["amount"] == 4900 and billing.balance(ACME) == 45

    # The provider answers a key it has seen with its first answer, charging nothing more.
    change = {"amount": 100, "currency": "EUR", "idempotency_key": "k1", "charge": {"amount": 7, "currency": "EUR"}}
    first = api(local, f"/v1/subscriptions/{reference}/change", change)
    assert api(local, f"/v1/subscriptions/{reference}/change", change) == first
    assert sum(p["amount"] == 7 for p in local.state.payments.values()) == 1


def test_the_client_reports_outages_as_unavailable_and_refusals_as_failed_preconditions() -> None:
    answers = iter([(500, b"{}"), (200, b"[1]"), (200, b'{"id": 1}'), (409, b"{}")])
    endpoint = Endpoint(lambda body, headers: next(answers))
    try:
        client = HttpPaymentProvider(endpoint.url, API_KEY)
        for expected in ("UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE", "FAILED_PRECONDITION"):
            refused = failure(lambda: client.create_checkout(checkout_request()))
            assert refused.code.name == expected
    finally:
        endpoint.stop()
    gone = HttpPaymentProvider(endpoint.url, API_KEY)  # nobody listens any more
    assert failure(lambda: gone.cancel_subscription("sub_x", True)).code == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(ValueError, match="http"):
        HttpPaymentProvider("file:///etc/passwd", API_KEY)


def test_callbacks_are_retried_on_outages_but_not_on_refusals() -> None:
    statuses = iter([HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.OK, HTTPStatus.BAD_REQUEST])
    received: list[bytes] = []

    def answer(body: bytes, headers: Any) -> tuple[int, bytes]:
        received.append(body)
        return int(next(statuses)), b""

    endpoint = Endpoint(answer)
    sender = WebhookSender("secret")
    sender.url = f"{endpoint.url}/hook"
    try:
        assert sender.send("checkout.expired", {"checkout": "cs_1"}).status == 200  # after one 503
        assert sender.send("checkout.expired", {"checkout": "cs_2"}).status == 400  # not retried
        assert len(received) == 3
    finally:
        endpoint.stop()
    assert sender.send("checkout.expired", {"checkout": "cs_3"}).status == 0  # nobody listens: given up


def test_the_provider_setting_chooses_the_local_provider_or_a_url() -> None:
    billing = new_billing(payment_provider="http", payment_provider_url="https://pay.example")
    client, local = payment_provider(billing.settings, billing.clock)
    assert local is None and isinstance(client, HttpPaymentProvider)
    for bad in (settings(payment_provider="http", payment_provider_url=""), settings(payment_provider="stripe")):
        with pytest.raises(ValueError, match="PAYMENT_PROVIDER"):
            payment_provider(bad, billing.clock)

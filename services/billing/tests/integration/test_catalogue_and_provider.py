"""The plans catalogue (seeded by the migration), checkout validation, and the local provider's
own HTTP surface (API key, hosted pay page with redirects)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import grpc
import pytest

from billing_service.bootstrap import BillingService
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider.common.v1 import page_pb2
from devinsider_common.grpc.status import field_violations, from_rpc_error
from devinsider_common.pages.roles import PageRole

from ..conftest import ORIGIN, TokenFactory, bearer
from ..helpers import balance, checkout, failure, http_json, pay, provider_api
from ..neighbours import Neighbours

ACME = "companies/acme"


def test_plans_are_seeded_cheapest_first_and_filtered(stub: billing_pb2_grpc.BillingServiceStub) -> None:
    everything = stub.ListPlans(billing_pb2.ListPlansRequest()).plans
    prices = [p.price.amount_minor for p in everything]
    assert prices == sorted(prices) and len(everything) == 11
    assert all(p.price.currency_code == "EUR" and p.active and p.credits > 0 for p in everything)
    packs = stub.ListPlans(
        billing_pb2.ListPlansRequest(page_kind=page_pb2.PAGE_KIND_COMPANY, kind=billing_pb2.PLAN_KIND_CREDIT_PACK)
    ).plans
    assert [p.name for p in packs] == ["plans/isv-credits-10", "plans/isv-credits-50"]
    assert all(p.interval == billing_pb2.BILLING_INTERVAL_UNSPECIFIED for p in packs)
    yearly = stub.GetPlan(billing_pb2.GetPlanRequest(name="plans/isv-pro-yearly"))
    assert (yearly.interval, yearly.credits, yearly.kind) == (
        billing_pb2.BILLING_INTERVAL_YEAR,
        300,
        billing_pb2.PLAN_KIND_SUBSCRIPTION,
    )
    seen: list[str] = []
    token = ""
    while True:
        page = stub.ListPlans(billing_pb2.ListPlansRequest(page_size=4, page_token=token))
        seen += [p.name for p in page.plans]
        if not (token := page.next_page_token):
            break
    assert seen == [p.name for p in everything]


def test_bad_catalogue_requests(stub: billing_pb2_grpc.BillingServiceStub) -> None:
    assert failure(lambda: stub.GetPlan(billing_pb2.GetPlanRequest(name="plans/nope")))[0] == grpc.StatusCode.NOT_FOUND
    for request in (
        billing_pb2.ListPlansRequest(page_kind=9),  # type: ignore[arg-type]
        billing_pb2.ListPlansRequest(kind=7),  # type: ignore[arg-type]
        billing_pb2.ListPlansRequest(page_size=-2),
        billing_pb2.ListPlansRequest(page_token="bogus"),
    ):
        assert failure(lambda request=request: stub.ListPlans(request))[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert failure(lambda: stub.GetPlan(billing_pb2.GetPlanRequest(name="isv")))[0] == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("plan", "success_url", "cancel_url", "field"),
    [
        ("plans/investor-monthly", f"{ORIGIN}/ok", "", "checkout.plan"),  # sold to investors only
        ("plans/nope", f"{ORIGIN}/ok", "", "checkout.plan"),
        ("isv-credits-10", f"{ORIGIN}/ok", "", "checkout.plan"),
        ("plans/isv-credits-10", "", "", "checkout.success_url"),
        ("plans/isv-credits-10", "ftp://app.example.com/x", "", "checkout.success_url"),
        ("plans/isv-credits-10", "https://evil.example/ok", "", "checkout.success_url"),
        ("plans/isv-credits-10", f"{ORIGIN}/ok", "https://evil.example/back", "checkout.cancel_url"),
    ],
)
def test_bad_checkouts_name_the_field(
    stub: billing_pb2_grpc.BillingServiceStub,
    neighbours: Neighbours,
    token: TokenFactory,
    plan: str,
    success_url: str,
    cancel_url: str,
    field: str,
) -> None:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    request = billing_pb2.CreateCheckoutRequest(
        parent=ACME, checkout=billing_pb2.Checkout(plan=plan, success_url=success_url, cancel_url=cancel_url)
    )
    with pytest.raises(grpc.RpcError) as error:
        stub.CreateCheckout(request, metadata=bearer(token("kc-owner")))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = from_rpc_error(error.value)
    assert status is not None and [v.field for v in field_violations(status)] == [field]


def test_the_local_provider_wants_its_api_key(service: BillingService) -> None:
    assert service.provider is not None
    with pytest.raises(urllib.error.HTTPError) as error:
        http_json(f"{service.provider.url}/v1/checkout_sessions", {"amount": 1}, api_key="wrong")
    assert error.value.code == 401


def test_the_hosted_page_takes_a_form_post_and_redirects_the_buyer(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, neighbours: Neighbours, token: TokenFactory
) -> None:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    owner = token("kc-owner")
    created = checkout(stub, owner, ACME, "plans/isv-credits-50")
    with urllib.request.urlopen(created.checkout_url, timeout=5) as page:  # noqa: S310
        assert b"50 credits" in page.read() and page.headers["Content-Type"].startswith("text/html")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    form = urllib.parse.urlencode({"action": "pay"}).encode()
    request = urllib.request.Request(created.checkout_url, data=form, method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    assert redirect.value.code == 303 and redirect.value.headers["Location"] == f"{ORIGIN}/billing/done"
    assert balance(stub, owner, ACME) == 50
    with pytest.raises(urllib.error.HTTPError) as again:  # a session is paid once
        http_json(created.checkout_url, {"action": "pay"})
    assert again.value.code == 400


def test_the_receipt_url_of_an_invoice_serves_its_receipt(
    stub: billing_pb2_grpc.BillingServiceStub, service: BillingService, neighbours: Neighbours, token: TokenFactory
) -> None:
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    owner = token("kc-owner")
    created = checkout(stub, owner, ACME, "plans/isv-credits-50")
    pay(created.checkout_url)
    done = stub.GetCheckout(billing_pb2.GetCheckoutRequest(name=created.name), metadata=bearer(owner))
    invoice = stub.GetInvoice(billing_pb2.GetInvoiceRequest(name=done.invoice), metadata=bearer(owner))
    assert invoice.receipt_url.startswith(f"{service.provider.url if service.provider else '?'}/receipts/")

    def receipt() -> str:
        with urllib.request.urlopen(invoice.receipt_url, timeout=5) as page:  # noqa: S310 - the local provider
            assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
            return str(page.read().decode())

    shown = receipt()
    assert invoice.provider_reference in shown and "50 credits" in shown and "200.00 EUR" in shown
    assert "Refunded" not in shown
    provider_api(service, f"/v1/payments/{invoice.provider_reference}/refund")
    assert "Refunded" in receipt()
    with pytest.raises(urllib.error.HTTPError) as unknown:
        urllib.request.urlopen(f"{invoice.receipt_url}-nope", timeout=5)  # noqa: S310
    assert unknown.value.code == 404

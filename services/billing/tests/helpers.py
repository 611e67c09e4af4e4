"""Service-test helpers: act as the buyer on the local provider's pages, call its control API,
and the few RPCs most tests need."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

from billing_service.bootstrap import BillingService
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider.common.v1 import page_pb2
from devinsider_common.testing.services import bearer

from .conftest import ORIGIN

PROGRAM = "programs/p1"


def http_json(url: str, payload: Any, api_key: str = "") -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer = json.loads(response.read())
    assert isinstance(answer, dict)
    return answer


def provider_api(service: BillingService, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    assert service.provider is not None
    return http_json(f"{service.provider.url}{path}", payload or {}, service.settings.payment_provider_api_key)


def checkout(
    stub: billing_pb2_grpc.BillingServiceStub, token: str, page: str, plan: str, request_id: str = ""
) -> billing_pb2.Checkout:
    request = billing_pb2.CreateCheckoutRequest(
        parent=page,
        checkout=billing_pb2.Checkout(plan=plan, success_url=f"{ORIGIN}/billing/done"),
        request_id=request_id,
    )
    return stub.CreateCheckout(request, metadata=bearer(token))


def pay(checkout_url: str, action: str = "pay") -> dict[str, Any]:
    """What the buyer does on the provider's page; the provider then calls billing back, signed."""
    return http_json(checkout_url, {"action": action})


def grant(
    stub: billing_pb2_grpc.BillingServiceStub, admin_token: str, page: str, credits: int
) -> billing_pb2.LedgerEntry:
    entry = billing_pb2.LedgerEntry(kind=billing_pb2.LEDGER_ENTRY_KIND_GRANT, credits=credits, description="test grant")
    request = billing_pb2.CreateLedgerEntryRequest(parent=page, ledger_entry=entry, request_id=str(uuid.uuid4()))
    return stub.CreateLedgerEntry(request, metadata=bearer(admin_token))


def balance(stub: billing_pb2_grpc.BillingServiceStub, token: str, page: str) -> int:
    answer = stub.GetCreditBalance(
        billing_pb2.GetCreditBalanceRequest(name=f"{page}/creditBalance"), metadata=bearer(token)
    )
    return int(answer.balance)


def unlock(
    stub: billing_pb2_grpc.BillingServiceStub, auth: str, target: str, request_id: str, parent: str = PROGRAM
) -> billing_pb2.Unlock:
    kind = page_pb2.PAGE_KIND_COMPANY if target.startswith("companies/") else page_pb2.PAGE_KIND_INVESTOR
    request = billing_pb2.CreateUnlockRequest(
        parent=parent, unlock=billing_pb2.Unlock(target=page_pb2.PageRef(kind=kind, name=target)), request_id=request_id
    )
    return stub.CreateUnlock(request, metadata=bearer(auth))

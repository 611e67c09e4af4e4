"""The permission matrix: every RPC x every kind of caller, with the exact status code.

Gets use ids that do not exist, so a caller allowed on the page sees NOT_FOUND and any other
PERMISSION_DENIED: permission is checked before existence. Spending RPCs run on an empty balance,
so an allowed spender reaches FAILED_PRECONDITION (INSUFFICIENT_CREDITS) and nothing changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import grpc
from google.api import httpbody_pb2

from devinsider.billing.v1 import billing_pb2 as b
from devinsider.billing.v1 import billing_pb2_grpc
from devinsider.common.v1 import page_pb2
from devinsider_common.pages.roles import PageRole

from ..conftest import ORIGIN, TokenFactory, bearer
from ..neighbours import Neighbours

ACME = "companies/acme"
MISSING = "01234567-89ab-7cde-8f01-23456789abcd"
OK, DENIED, MISSING_, UNAUTH, PRECONDITION = (
    grpc.StatusCode.OK,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.FAILED_PRECONDITION,
)
CALLERS = ["anonymous", "owner", "admin", "editor", "viewer", "non_member", "other_page_owner", "staff", "service"]
_ids = itertools.count()


def _rpcs() -> dict[str, tuple[Callable[[billing_pb2_grpc.BillingServiceStub], Callable[..., Any]], Callable[[], Any]]]:
    return {
        "ListPlans": (lambda s: s.ListPlans, lambda: b.ListPlansRequest()),
        "GetPlan": (lambda s: s.GetPlan, lambda: b.GetPlanRequest(name="plans/isv-pro-monthly")),
        "ListSubscriptions": (lambda s: s.ListSubscriptions, lambda: b.ListSubscriptionsRequest(parent=ACME)),
        "GetSubscription": (
            lambda s: s.GetSubscription,
            lambda: b.GetSubscriptionRequest(name=f"{ACME}/subscriptions/{MISSING}"),
        ),
        "CancelSubscription": (
            lambda s: s.CancelSubscription,
            lambda: b.CancelSubscriptionRequest(name=f"{ACME}/subscriptions/{MISSING}"),
        ),
        "CreateCheckout": (
            lambda s: s.CreateCheckout,
            lambda: b.CreateCheckoutRequest(
                parent=ACME, checkout=b.Checkout(plan="plans/nope", success_url=f"{ORIGIN}/done")
            ),
        ),
        "GetCheckout": (lambda s: s.GetCheckout, lambda: b.GetCheckoutRequest(name=f"{ACME}/checkouts/{MISSING}")),
        "GetCreditBalance": (
            lambda s: s.GetCreditBalance,
            lambda: b.GetCreditBalanceRequest(name=f"{ACME}/creditBalance"),
        ),
        "ListLedgerEntries": (lambda s: s.ListLedgerEntries, lambda: b.ListLedgerEntriesRequest(parent=ACME)),
        "CreateLedgerEntry": (
            lambda s: s.CreateLedgerEntry,
            lambda: b.CreateLedgerEntryRequest(
                parent="companies/granted",  # not ACME: its balance must stay empty for CreateUnlock
                ledger_entry=b.LedgerEntry(kind=b.LEDGER_ENTRY_KIND_GRANT, credits=1),
                request_id=f"matrix-{next(_ids)}",
            ),
        ),
        "CreateUnlock": (
            lambda s: s.CreateUnlock,
            lambda: b.CreateUnlockRequest(
                parent=ACME,
                unlock=b.Unlock(target=page_pb2.PageRef(name="investors/vc")),
                request_id=f"matrix-{next(_ids)}",
            ),
        ),
        "GetUnlock": (lambda s: s.GetUnlock, lambda: b.GetUnlockRequest(name=f"{ACME}/unlocks/{MISSING}")),
        "ListUnlocks": (lambda s: s.ListUnlocks, lambda: b.ListUnlocksRequest(parent=ACME)),
        "ListInvoices": (lambda s: s.ListInvoices, lambda: b.ListInvoicesRequest(parent=ACME)),
        "GetInvoice": (lambda s: s.GetInvoice, lambda: b.GetInvoiceRequest(name=f"{ACME}/invoices/{MISSING}")),
        "HasUnlocked": (lambda s: s.HasUnlocked, lambda: b.HasUnlockedRequest(target=ACME, unlocker="programs/p")),
        "ReceivePaymentEvent": (
            lambda s: s.ReceivePaymentEvent,
            lambda: b.ReceivePaymentEventRequest(body=httpbody_pb2.HttpBody(data=b"{}")),
        ),
    }


def _row(
    anonymous: grpc.StatusCode, members: list[grpc.StatusCode], rest: list[grpc.StatusCode]
) -> list[grpc.StatusCode]:
    """anonymous; owner, admin, editor, viewer; non-member, other page's owner, staff, service."""
    return [anonymous, *members, *rest]


VIEW = _row(UNAUTH, [OK] * 4, [DENIED, DENIED, OK, OK])
VIEW_ONE = _row(UNAUTH, [MISSING_] * 4, [DENIED, DENIED, MISSING_, MISSING_])
MANAGE_ONE = _row(UNAUTH, [MISSING_, MISSING_, DENIED, DENIED], [DENIED, DENIED, MISSING_, MISSING_])
MANAGE_LIST = _row(UNAUTH, [OK, OK, DENIED, DENIED], [DENIED, DENIED, OK, OK])
EXPECTED: dict[str, list[grpc.StatusCode]] = {
    "ListPlans": [OK] * 9,
    "GetPlan": [OK] * 9,
    "ListSubscriptions": VIEW,
    "GetSubscription": VIEW_ONE,
    "CancelSubscription": MANAGE_ONE,
    # Members with MANAGE_BILLING only (staff and services do not buy for a page); the plan is unknown.
    "CreateCheckout": _row(
        UNAUTH, [grpc.StatusCode.INVALID_ARGUMENT] * 2 + [DENIED] * 2, [DENIED, DENIED, DENIED, DENIED]
    ),
    "GetCheckout": MANAGE_ONE,
    "GetCreditBalance": VIEW,
    "ListLedgerEntries": MANAGE_LIST,
    "CreateLedgerEntry": _row(UNAUTH, [DENIED] * 4, [DENIED, DENIED, OK, OK]),
    "CreateUnlock": _row(UNAUTH, [PRECONDITION] * 2 + [DENIED] * 2, [DENIED, DENIED, DENIED, DENIED]),
    "GetUnlock": VIEW_ONE,
    "ListUnlocks": VIEW,
    "ListInvoices": MANAGE_LIST,
    "GetInvoice": MANAGE_ONE,
    "HasUnlocked": _row(UNAUTH, [DENIED] * 4, [DENIED, DENIED, DENIED, OK]),
    # Public, but the signature is the credential: unsigned bodies are refused for everyone.
    "ReceivePaymentEvent": [UNAUTH] * 9,
}


def test_every_rpc_against_every_caller(
    stub: billing_pb2_grpc.BillingServiceStub, neighbours: Neighbours, token: TokenFactory
) -> None:
    assert set(EXPECTED) == set(b.DESCRIPTOR.services_by_name["BillingService"].methods_by_name)
    for subject, role in (("kc-owner", PageRole.OWNER), ("kc-admin", PageRole.ADMIN)):
        neighbours.add_member(ACME, subject, role)
    neighbours.add_member(ACME, "kc-editor", PageRole.EDITOR)
    neighbours.add_member(ACME, "kc-viewer", PageRole.VIEWER)
    neighbours.add_member("companies/other", "kc-other", PageRole.OWNER)
    metadata: dict[str, tuple[tuple[str, str], ...]] = {
        "anonymous": (),
        "owner": bearer(token("kc-owner")),
        "admin": bearer(token("kc-admin")),
        "editor": bearer(token("kc-editor")),
        "viewer": bearer(token("kc-viewer")),
        "non_member": bearer(token("kc-stranger")),
        "other_page_owner": bearer(token("kc-other")),
        "staff": bearer(token("kc-staff", roles=("admin",))),
        "service": bearer(token("service-company", roles=("service",))),
    }
    mismatches = []
    for rpc, (method, request) in _rpcs().items():
        for caller, expected in zip(CALLERS, EXPECTED[rpc], strict=True):
            try:
                method(stub)(request(), metadata=metadata[caller])
                code = OK
            except grpc.RpcError as error:
                code = error.code()
            if code != expected:
                mismatches.append(f"{rpc} as {caller}: {code.name}, expected {expected.name}")
    assert mismatches == []

"""The permission matrix: every use case on a page's data x every kind of signed-in caller.

Gets use ids that do not exist, so a caller allowed on the page sees NOT_FOUND and any other
PERMISSION_DENIED: permission is checked before existence. Spending runs on an empty balance, so
an allowed spender reaches FAILED_PRECONDITION (INSUFFICIENT_CREDITS) and nothing changes. (Who
may call at all, anonymous callers and service-only RPCs, is the server's access policy:
tests/integration/test_rpcs.py.)
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from billing_service.domain.ledger import LedgerEntryKind
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import failure_of
from devinsider_common.testing.tokens import principal

from ..harness import ACME, ORIGIN, STAFF, Billing

OTHER = PageName(PageKind.COMPANY, "other")
VC = PageName(PageKind.INVESTOR, "vc")
OK, DENIED, MISSING, INVALID, PRECONDITION = (
    grpc.StatusCode.OK,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
)
CALLERS = ["owner", "admin", "editor", "viewer", "non_member", "other_page_owner", "staff", "service"]
Call = Callable[[Billing, Principal], object]

USE_CASES: dict[str, Call] = {
    "ListPlans": lambda b, p: b.app.catalogue.list_plans(0, "", None, None, False),
    "GetPlan": lambda b, p: b.app.catalogue.get_plan("isv-pro-monthly"),
    "ListSubscriptions": lambda b, p: b.app.subscriptions.list_subscriptions(p, ACME, 0, "", []),
    "GetSubscription": lambda b, p: b.app.subscriptions.get(p, ACME, "missing"),
    "CancelSubscription": lambda b, p: b.app.subscriptions.cancel(p, ACME, "missing", False, ""),
    "ChangeSubscriptionPlan": lambda b, p: b.app.plan_changes.change(p, ACME, "missing", "isv-pro-monthly", ""),
    "GetEntitlements": lambda b, p: b.app.entitlements.get(p, ACME),
    "CreateCheckout": lambda b, p: b.app.checkouts.create(p, ACME, "nope", f"{ORIGIN}/done", "", ""),
    "GetCheckout": lambda b, p: b.app.checkouts.get(p, ACME, "missing"),
    "GetCreditBalance": lambda b, p: b.app.ledger.balance(p, ACME),
    "ListLedgerEntries": lambda b, p: b.app.ledger.list_ledger_entries(p, ACME, 0, "", None),
    "CreateLedgerEntry": lambda b, p: b.app.ledger.create(
        p, PageName(PageKind.COMPANY, "granted"), LedgerEntryKind.GRANT, 1, "", None, f"matrix-{p.subject}"
    ),
    "CreateUnlock": lambda b, p: b.app.unlocks.create(p, ACME, VC, f"matrix-{p.subject}"),
    "GetUnlock": lambda b, p: b.app.unlocks.get(p, ACME, "missing"),
    "ListUnlocks": lambda b, p: b.app.unlocks.list_unlocks(p, ACME, 0, "", None),
    "ListInvoices": lambda b, p: b.app.invoices.list_invoices(p, ACME, 0, "", None),
    "GetInvoice": lambda b, p: b.app.invoices.get(p, ACME, "missing"),
}

VIEW = [OK] * 4 + [DENIED, DENIED, OK, OK]
VIEW_ONE = [MISSING] * 4 + [DENIED, DENIED, MISSING, MISSING]
MANAGE_ONE = [MISSING, MISSING, DENIED, DENIED, DENIED, DENIED, MISSING, MISSING]
MANAGE_LIST = [OK, OK, DENIED, DENIED, DENIED, DENIED, OK, OK]
EXPECTED: dict[str, list[grpc.StatusCode]] = {
    "ListPlans": [OK] * 8,
    "GetPlan": [OK] * 8,
    "ListSubscriptions": VIEW,
    "GetSubscription": VIEW_ONE,
    "CancelSubscription": MANAGE_ONE,
    # Members with MANAGE_BILLING only, as for buying (staff and services cancel, they do not buy).
    "ChangeSubscriptionPlan": [MISSING] * 2 + [DENIED] * 6,
    "GetEntitlements": VIEW,
    # Members with MANAGE_BILLING only (staff and services do not buy for a page); the plan is unknown.
    "CreateCheckout": [INVALID] * 2 + [DENIED] * 6,
    "GetCheckout": MANAGE_ONE,
    "GetCreditBalance": VIEW,
    "ListLedgerEntries": MANAGE_LIST,
    "CreateLedgerEntry": [DENIED] * 6 + [OK, OK],  # staff and services only
    "CreateUnlock": [PRECONDITION] * 2 + [DENIED] * 6,  # members with MANAGE_BILLING only
    "GetUnlock": VIEW_ONE,
    "ListUnlocks": VIEW,
    "ListInvoices": MANAGE_LIST,
    "GetInvoice": MANAGE_ONE,
}


def test_every_use_case_against_every_caller(billing: Billing) -> None:
    assert set(USE_CASES) == set(EXPECTED)
    callers = {
        "owner": billing.member(ACME, "kc-owner", PageRole.OWNER),
        "admin": billing.member(ACME, "kc-admin", PageRole.ADMIN),
        "editor": billing.member(ACME, "kc-editor", PageRole.EDITOR),
        "viewer": billing.member(ACME, "kc-viewer", PageRole.VIEWER),
        "non_member": principal("kc-stranger"),
        "other_page_owner": billing.member(OTHER, "kc-other", PageRole.OWNER),
        "staff": STAFF,
        "service": principal("service-company", roles=("service",)),
    }
    mismatches = []
    for name, call in USE_CASES.items():
        for caller, expected in zip(CALLERS, EXPECTED[name], strict=True):
            try:
                call(billing, callers[caller])
                code = OK
            except Exception as error:
                code = failure_of(error).code
            if code != expected:
                mismatches.append(f"{name} as {caller}: {code.name}, expected {expected.name}")
    assert mismatches == []
    assert billing.balance(ACME) == 0 and billing.provider.checkouts == []  # nothing changed the page
    assert billing.provider.changes == []

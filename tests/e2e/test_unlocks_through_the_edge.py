"""Unlocks, and the credits they spend, through Envoy (issue 17).

- Every member of the spending page sees the target's contacts once the unlock's event reached the
  target's service (its projection; no cached "no" in the way), for every direction billing sells;
  another organisation does not.
- Pages that do not exist, or no longer do, are not sold: 404 `UNLOCK_TARGET_NOT_FOUND`, nothing spent.
- Buying credits: a return URL off the allowed origins is refused with the allowed list named, and
  the invoice's `receiptUrl` (the local provider's) serves the receipt.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from devinsider_gateway.testing.http import Response, request

from .journeys import balance, investor_page, join_investor, join_program, ok, published_program, unlocked_view
from .suite_stack import SuiteStack, create_company, field_violations, join_company, status_of, unique

# `<spender kind>:<target kind>`, as billing's UNLOCK_COSTS names them.
DIRECTIONS = ("program:company", "company:investor", "investor:company")


@dataclass(frozen=True)
class Org:
    """A page and the bearer tokens of its members (the owner first)."""

    page: str
    kind: str  # PAGE_KIND_*
    members: tuple[str, ...]
    contact_email: str = ""


def _company(stack: SuiteStack, colleague: bool) -> Org:
    subject = unique("isv-owner")
    owner = stack.token(subject)
    email = f"hq@{subject}.example"
    page = create_company(stack, owner, displayName=f"Acme {subject}", contact={"email": email})["name"]
    members = (
        (owner, join_company(stack, page, owner, unique("isv-viewer"), "PAGE_ROLE_VIEWER")) if colleague else (owner,)
    )
    return Org(page, "PAGE_KIND_COMPANY", members, email)


def _investor(stack: SuiteStack, colleague: bool) -> Org:
    email = f"deals@{uuid.uuid4().hex[:8]}.example"
    investor = investor_page(stack, contact_email=email, with_profile=False)
    members = (investor.owner, join_investor(stack, investor, unique("inv-viewer"))) if colleague else (investor.owner,)
    return Org(investor.name, "PAGE_KIND_INVESTOR", members, email)


def _program(stack: SuiteStack, colleague: bool) -> Org:
    program = published_program(stack)
    members = (program.owner, join_program(stack, program, unique("prog-viewer"))) if colleague else (program.owner,)
    return Org(program.name, "PAGE_KIND_PROGRAM", members)


ORGS: dict[str, Callable[[SuiteStack, bool], Org]] = {"company": _company, "investor": _investor, "program": _program}


def _grant(stack: SuiteStack, page: str, credits: int) -> None:
    """Platform staff grant credits (the one way in besides a paid checkout)."""
    staff = stack.token(unique("staff"), roles=("admin",))
    entry = {"kind": "LEDGER_ENTRY_KIND_GRANT", "credits": str(credits), "description": "e2e unlock credits"}
    ok(stack.call("POST", f"/v1/{page}/ledgerEntries?requestId={uuid.uuid4().hex}", entry, staff))


def _unlock(stack: SuiteStack, spender: Org, kind: str, target: str) -> Response:
    body = {"target": {"kind": kind, "name": target}}
    return stack.call("POST", f"/v1/{spender.page}/unlocks?requestId={uuid.uuid4().hex}", body, spender.members[0])


def _view(stack: SuiteStack, page: str, token: str) -> dict[str, Any]:
    return ok(stack.call("GET", f"/v1/{page}", token=token))


def test_every_direction_billing_sells_is_tested_here(suite_stack: SuiteStack) -> None:
    assert set(suite_stack.billing.settings.unlock_costs) == set(DIRECTIONS)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_members_of_the_spender_see_the_contacts_once_the_unlock_is_projected(
    suite_stack: SuiteStack, direction: str
) -> None:
    spender_kind, target_kind = direction.split(":")
    spender = ORGS[spender_kind](suite_stack, True)
    target = ORGS[target_kind](suite_stack, False)
    stranger = ORGS[spender_kind](suite_stack, False).members[0]  # the owner of another organisation
    viewers = (*spender.members, stranger)

    # Before: the public view for everyone (a page service caching a "no" would cache it now).
    for viewer in viewers:
        before = _view(suite_stack, target.page, viewer)
        assert "contact" not in before and "viewerHasFullAccess" not in before, before

    _grant(suite_stack, spender.page, 3)
    unlocked = ok(_unlock(suite_stack, spender, target.kind, target.page))
    assert (unlocked["cost"], unlocked["target"]["name"]) == ("1", target.page), unlocked

    # As soon as the unlock's event reached the target's service: the owner and the viewer of the spending page
    # see the contacts (the target's service projects billing's unlocks; it never asks billing).
    for member in spender.members:
        after = unlocked_view(suite_stack, target.page, member)
        assert after["viewerHasFullAccess"] is True and after["contact"]["email"] == target.contact_email, after
    assert "contact" not in _view(suite_stack, target.page, stranger)
    assert balance(suite_stack, spender.page, spender.members[0]) == 2


def test_unlocks_of_pages_that_do_not_exist_are_refused_and_cost_nothing(suite_stack: SuiteStack) -> None:
    isv, investor = _company(suite_stack, False), _investor(suite_stack, False)
    gone = _investor(suite_stack, False)
    ok(suite_stack.call("DELETE", f"/v1/{gone.page}", token=gone.members[0]))
    for spender in (isv, investor):
        _grant(suite_stack, spender.page, 2)

    for spender, kind, target in (
        (isv, "PAGE_KIND_INVESTOR", "investors/x"),
        (isv, "PAGE_KIND_INVESTOR", f"investors/{uuid.uuid4()}"),
        (isv, "PAGE_KIND_INVESTOR", gone.page),
        (investor, "PAGE_KIND_COMPANY", f"companies/{uuid.uuid4()}"),
    ):
        refused = _unlock(suite_stack, spender, kind, target)
        assert status_of(refused) == (404, 5, "UNLOCK_TARGET_NOT_FOUND"), (target, refused.body)

    for spender in (isv, investor):
        assert balance(suite_stack, spender.page, spender.members[0]) == 2
        unlocks = ok(suite_stack.call("GET", f"/v1/{spender.page}/unlocks", token=spender.members[0]))
        assert unlocks.get("unlocks", []) == [], unlocks


def test_a_return_url_off_the_allowed_origins_names_them(suite_stack: SuiteStack) -> None:
    isv = _company(suite_stack, False)
    body = {"plan": "plans/isv-credits-10", "successUrl": "http://localhost:5173/billing/done"}
    refused = suite_stack.call("POST", f"/v1/{isv.page}/checkouts", body, isv.members[0])
    assert status_of(refused)[:2] == (400, 3) and field_violations(refused) == ["checkout.success_url"], refused.body
    (violation,) = [v for d in refused.json()["details"] if "fieldViolations" in d for v in d["fieldViolations"]]
    allowed = ", ".join(suite_stack.billing.settings.allowed_return_origins)
    assert violation["description"] == (
        f"http://localhost:5173 is not an allowed return origin (ALLOWED_RETURN_ORIGINS: {allowed})"
    ), violation


def test_the_receipt_url_of_a_paid_credit_pack_serves_the_receipt(suite_stack: SuiteStack) -> None:
    isv = _company(suite_stack, False)
    body = {"plan": "plans/isv-credits-10", "successUrl": "http://localhost:3000/billing/done"}
    checkout = ok(suite_stack.call("POST", f"/v1/{isv.page}/checkouts", body, isv.members[0]))
    paid = request("POST", checkout["checkoutUrl"], {"action": "pay"})  # the buyer, on the provider's page
    assert paid.status == 200 and paid.json()["delivered"] == 200, paid.body
    invoice_name = ok(suite_stack.call("GET", f"/v1/{checkout['name']}", token=isv.members[0]))["invoice"]
    invoice = ok(suite_stack.call("GET", f"/v1/{invoice_name}", token=isv.members[0]))
    receipt = request("GET", invoice["receiptUrl"])
    assert receipt.status == 200, receipt.body
    assert invoice["providerReference"].encode() in receipt.body and b"50.00 EUR" in receipt.body, receipt.body

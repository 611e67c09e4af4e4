"""Building blocks of the end-to-end journeys (tests/e2e/test_journeys.py), through Envoy only.

Each journey checks the state before and after every step it takes, so that a broken feature
fails here and not only in the queue assertions. The webhooks are signed as their senders sign
them (Keycloak: hex HMAC-SHA256 of the raw body; payment provider: `t=<unix>,v1=<hex HMAC-SHA256
of "<t>.<body>">`), computed here independently of the services' own code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from devinsider.common.v1 import mail_pb2
from devinsider_common.outbox import topology
from devinsider_gateway.testing.http import Response, request
from notification_service.service_layer.unit_of_work import SqlNotificationUnitOfWork

from .suite_stack import (
    EVENTUALLY_SECONDS,
    KEYCLOAK_WEBHOOK_SECRET,
    PAYMENT_WEBHOOK_SECRET,
    EdgeStack,
    Event,
    SuiteStack,
    create_company,
    join_company,
    status_of,
    unique,
)

CREDIT_PACK = "plans/investor-credits-10"


def eur(amount_minor: int) -> dict[str, str]:
    return {"currencyCode": "EUR", "amountMinor": str(amount_minor)}


def criterion(dimension: str, *codes: str) -> dict[str, Any]:
    return {"dimension": f"DIMENSION_{dimension}", "codes": list(codes)}


def ok(response: Response) -> dict[str, Any]:
    assert response.status == 200, response.body
    return dict(response.json())


# --- Keycloak -----------------------------------------------------------------------------------


def keycloak_event(
    stack: EdgeStack, event_type: str, subject: str, details: dict[str, str] | None = None, source: str = ""
) -> Response:
    """Posts a signed user event (p2-inc/keycloak-events shape, e.g. `access.REGISTER`) to the edge, no
    token; `source`: the local address it is sent from (the edge rate-limits per webhook and address)."""
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "time": int(time.time() * 1000),
            "type": event_type,
            "realmId": "devinsider",
            "authDetails": {"realmId": "devinsider", "clientId": "web", "userId": subject},
            "details": details or {},
        },
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(KEYCLOAK_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/json", "x-keycloak-signature": f"sha256={signature}"}
    return request("POST", stack.url("/v1/webhooks/keycloak"), body, headers, source=source)


def keycloak_register(
    stack: EdgeStack, subject: str, email: str, given: str, family: str, source: str = ""
) -> Response:
    """A signed `access.REGISTER` of `subject` through the edge."""
    details = {"email": email, "first_name": given, "last_name": family, "username": email}
    return keycloak_event(stack, "access.REGISTER", subject, details, source)


def users_with_email(stack: EdgeStack, email: str) -> list[dict[str, Any]]:
    """The users platform staff see with exactly this e-mail address."""
    admin = stack.token(unique("staff"), roles=("admin",))
    domain = email.split("@", 1)[1]
    listed = ok(stack.call("GET", f"/v1/users?emailSuffix=@{domain}", token=admin))
    return [user for user in listed.get("users", []) if user["email"] == email]


# --- payment provider ---------------------------------------------------------------------------


def payment_webhook(
    stack: EdgeStack,
    event_type: str,
    data: dict[str, Any],
    secret: str = PAYMENT_WEBHOOK_SECRET,
    source: str = "",
) -> Response:
    """Posts a payment-provider event to the edge, signed as the provider signs it (from `source`)."""
    now = int(time.time())
    body = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": event_type, "created": now, "data": data}).encode()
    digest = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/json", "x-payment-signature": f"t={now},v1={digest}"}
    return request("POST", stack.url("/v1/webhooks/payments"), body, headers, source=source)


def provider_base(checkout_url: str) -> str:
    parts = urlsplit(checkout_url)
    return f"{parts.scheme}://{parts.netloc}"


def unlocked_view(stack: EdgeStack, page: str, token: str) -> dict[str, Any]:
    """The page as `token` sees it once the unlock reached the page's service (billing's UnlockCreated
    through the relay and the projection's consumer: polled, within EVENTUALLY_SECONDS)."""
    deadline = time.monotonic() + EVENTUALLY_SECONDS
    while True:
        view = ok(stack.call("GET", f"/v1/{page}", token=token))
        if view.get("viewerHasFullAccess") or time.monotonic() > deadline:
            return view
        time.sleep(0.05)


def balance(stack: EdgeStack, page: str, token: str) -> int:
    """A page's credit balance (int64: a JSON string, omitted at 0)."""
    return int(ok(stack.call("GET", f"/v1/{page}/creditBalance", token=token)).get("balance", "0"))


# --- pages --------------------------------------------------------------------------------------


def complete_company(display_name: str, contact_email: str) -> dict[str, Any]:
    """A page complete for program and investor matchmaking (company_service.domain.rules)."""
    return {
        "displayName": display_name,
        "description": "Analytics for factories, from sensor to dashboard.",
        "websiteUrl": "https://www.acme.example",
        "hqCountryCode": "FR",
        "foundingYear": 2015,
        "companySize": "COMPANY_SIZE_11_50",
        "industries": ["manufacturing"],
        "solutionCategories": ["analytics"],
        "targetRegions": ["europe"],
        "licensingModels": ["LICENSING_MODEL_SAAS"],
        "distributionChannels": ["DISTRIBUTION_CHANNEL_DIRECT"],
        "contact": {"email": contact_email, "phoneNumber": "+33612345678"},
        "financials": {
            "revenueRange": "REVENUE_RANGE_1M_5M",
            "lookingForFunding": True,
            "fundingTarget": eur(2_000_000),
        },
        "pitch": {"painPoint": "Blind plants", "differentiator": "Minutes to install", "team": "Ten engineers"},
    }


@dataclass(frozen=True)
class Page:
    name: str
    owner_subject: str
    owner: str  # the owner's bearer token
    display_name: str


def match_on_the_page(stack: EdgeStack, page: str, token: str) -> dict[str, Any]:
    """A criteria profile for `page` holding nothing of its own: matching follows what the page holds."""
    return ok(stack.call("PATCH", f"/v1/{page}/criteriaProfile?updateMask=criteria", {}, token))


def published_program(stack: EdgeStack) -> Page:
    """A published partner program whose page wants fintech companies in France (matching follows it)."""
    subject = unique("prog-pat")
    owner = stack.token(subject, roles=("program",))
    display_name = f"Fintech Partners {uuid.uuid4().hex[:6]}"
    body = {
        "displayName": display_name,
        "vendorName": "Contoso",
        "programType": "PROGRAM_TYPE_TECHNOLOGY",
        "industries": ["fintech"],
        "countryCodes": ["FR"],
    }
    name = ok(stack.call("POST", "/v1/programs", body, owner))["name"]
    assert ok(stack.call("POST", f"/v1/{name}:publish", {}, owner))["state"] == "PROGRAM_STATE_PUBLISHED"
    saved = match_on_the_page(stack, name, owner)
    assert saved["page"] == {"kind": "PAGE_KIND_PROGRAM", "name": name}, saved
    return Page(name, subject, owner, display_name)


def investor_page(stack: EdgeStack, contact_email: str = "", with_profile: bool = True) -> Page:
    """An active VC page; with a profile, its page wants series A and tickets of 10 000 to 30 000 EUR."""
    subject = unique("inv-ivan")
    owner = stack.token(subject, roles=("investor",))
    display_name = f"Northwind Ventures {uuid.uuid4().hex[:6]}"
    body: dict[str, Any] = {
        "displayName": display_name,
        "category": "INVESTOR_CATEGORY_INSTITUTIONAL",
        "investorType": "INVESTOR_TYPE_VENTURE_CAPITAL",
    }
    if contact_email:
        body["contact"] = {"email": contact_email}
    if with_profile:
        body |= {"fundingStages": ["series_a"], "ticketMin": eur(1_000_000), "ticketMax": eur(3_000_000)}
    name = ok(stack.call("POST", "/v1/investors", body, owner))["name"]
    if with_profile:
        saved = match_on_the_page(stack, name, owner)
        assert saved["ticketRange"]["max"] == eur(3_000_000), saved
    return Page(name, subject, owner, display_name)


# --- the ISV's journey --------------------------------------------------------------------------


@dataclass(frozen=True)
class IsvJourney:
    user: str  # users/{id}, created by the Keycloak webhook
    subject: str
    email: str
    owner: str  # bearer token of the registered ISV
    company: str
    company_display_name: str
    contact_email: str
    colleague_subject: str
    colleague: str
    invitation: str
    program: Page
    investor: Page
    application: str


def matches(stack: EdgeStack, company: str, kind: str, token: str) -> dict[str, float]:
    """The company's matches of `kind` (PROGRAM, INVESTOR): target name -> score."""
    listed = ok(stack.call("GET", f"/v1/{company}/matches?targetKind=PAGE_KIND_{kind}&explain=true", token=token))
    return {m["summary"]["page"]["name"]: float(m["score"]) for m in listed.get("matches", [])}


def isv_journey(stack: EdgeStack) -> IsvJourney:
    """Registration by Keycloak webhook, a complete company page, a colleague through the mailed
    token, the criteria profile, matches with a program and an investor, an application."""
    program, investor = published_program(stack), investor_page(stack)

    # 1. Keycloak tells us about the registration: the webhook, not the first token, creates the user.
    subject = unique("kc-isv-alice")
    email = f"{subject}@{subject}.example"
    assert users_with_email(stack, email) == []
    registered = keycloak_register(stack, subject, email, "Alice", "Martin")
    assert (registered.status, registered.json()) == (200, {}), registered.body
    (user,) = users_with_email(stack, email)
    assert (user["subject"], user["givenName"], user["familyName"], user["state"]) == (
        subject,
        "Alice",
        "Martin",
        "USER_STATE_ACTIVE",
    )
    assert "roles" not in user  # Keycloak's event carries no realm roles; the first token brings them
    owner = stack.token(subject, email=email)
    me = ok(stack.call("GET", "/v1/users/me", token=owner))
    assert (me["name"], me["givenName"]) == (user["name"], "Alice")  # the same user, not a second one

    # 2. The company page, complete for matchmaking; contacts are the members'. It holds what matching
    # matches it on (industries, categories, markets, size, revenue, funding need).
    display_name = f"Acme Fintech {uuid.uuid4().hex[:6]}"
    contact_email = f"hq@{subject}.example"
    fintech = {"industries": ["fintech", "retail"], "solutionCategories": ["ai_ml"]}
    created = create_company(stack, owner, **(complete_company(display_name, contact_email) | fintech))
    company = created["name"]
    assert created["viewerRole"] == "PAGE_ROLE_OWNER" and created["completeness"]["programMatchmaking"] is True
    assert created["completeness"]["investorMatchmaking"] is True, created["completeness"]

    # 3. A colleague is invited and accepts with the token mailed to them.
    colleague_subject = unique("kc-isv-bob")
    outsider_view = stack.call("GET", f"/v1/{company}/members", token=stack.token(colleague_subject))
    assert status_of(outsider_view)[:2] == (403, 7), outsider_view.body
    colleague = join_company(stack, company, owner, colleague_subject, "PAGE_ROLE_EDITOR")
    members = ok(stack.call("GET", f"/v1/{company}/members", token=colleague))["members"]
    assert [(m["subject"], m["role"]) for m in members] == [
        (subject, "PAGE_ROLE_OWNER"),
        (colleague_subject, "PAGE_ROLE_EDITOR"),
    ]
    invitation, _ = stack.broker.invitation_token(f"{colleague_subject}@example.com", "company_invitation")
    assert ok(stack.call("GET", f"/v1/{company}", token=colleague))["contact"]["email"] == contact_email

    # 4. The criteria profile: no matches before it, the program and the investor after. It holds what the
    # page does not (the stage the company raises); the rest is the page's.
    assert matches(stack, company, "PROGRAM", owner) == {} and matches(stack, company, "INVESTOR", owner) == {}
    profile = {"criteria": [criterion("FUNDING_STAGE", "seed")]}
    stranger = stack.call("PATCH", f"/v1/{company}/criteriaProfile", profile, program.owner)
    assert status_of(stranger)[:2] == (403, 7), stranger.body
    saved = ok(stack.call("PATCH", f"/v1/{company}/criteriaProfile", profile, owner))
    assert saved["name"] == f"{company}/criteriaProfile" and len(saved["criteria"]) == 6, saved  # 5 the page's
    assert ok(stack.call("GET", f"/v1/{company}/criteriaProfile", token=colleague))["fundingNeed"] == {
        "lookingForFunding": True,
        "amount": eur(2_000_000),
    }
    # (Other journeys' pages of the same stack may match too: only this journey's are looked at.)
    assert matches(stack, company, "PROGRAM", colleague)[program.name] == 100.0
    # Investor: stage seed is a neighbouring step of series A (0.5 x 3), the amount is in the ticket (1 x 3).
    assert matches(stack, company, "INVESTOR", colleague)[investor.name] == 75.0
    scored = ok(stack.call("POST", f"/v1/{company}:scoreMatch", {"target": program.name}, owner))
    assert scored["eligible"] is True and {d["dimension"] for d in scored["dimensions"]} == {
        "DIMENSION_INDUSTRY",
        "DIMENSION_COUNTRY",
    }
    listed = ok(stack.call("GET", f"/v1/{program.name}/matches", token=program.owner)).get("matches", [])
    assert (company, display_name, 100.0) in [
        (m["summary"]["page"]["name"], m["summary"]["displayName"], m["score"]) for m in listed
    ], listed

    # 5. The ISV applies to the program; its owner sees the application.
    mine = f"/v1/programs/-/applications?company={company}"
    assert "applications" not in ok(stack.call("GET", mine, token=owner))
    application = {"company": company, "message": "We ship fintech analytics in France"}
    applied = ok(stack.call("POST", f"/v1/{program.name}/applications", application, owner))
    assert (applied["state"], applied["company"], applied["companyDisplayName"]) == (
        "APPLICATION_STATE_PENDING",
        company,
        display_name,
    )
    assert [a["name"] for a in ok(stack.call("GET", mine, token=colleague))["applications"]] == [applied["name"]]
    received = ok(stack.call("GET", f"/v1/{program.name}/applications", token=program.owner))["applications"]
    assert [a["name"] for a in received] == [applied["name"]], received
    assert received[0]["applicant"] == user["name"], received  # the user service's users/{id}

    return IsvJourney(
        user=user["name"],
        subject=subject,
        email=email,
        owner=owner,
        company=company,
        company_display_name=display_name,
        contact_email=contact_email,
        colleague_subject=colleague_subject,
        colleague=colleague,
        invitation=invitation,
        program=program,
        investor=investor,
        application=applied["name"],
    )


# --- the investor's journey ---------------------------------------------------------------------


@dataclass(frozen=True)
class InvestorJourney:
    investor: Page
    buyer_email: str
    checkout: str
    provider_reference: str
    invoice: str
    unlock: str


def join_investor(stack: EdgeStack, investor: Page, subject: str) -> str:
    """A viewer joins the investor page through its mailed token; returns the viewer's token."""
    email = f"{subject}@example.com"
    invited = ok(
        stack.call(
            "POST", f"/v1/{investor.name}/invitations", {"email": email, "role": "PAGE_ROLE_VIEWER"}, investor.owner
        )
    )
    name, one_time = stack.broker.invitation_token(email, "investor_invitation")
    assert name == invited["name"]
    token = stack.token(subject, roles=("investor",), email=email)
    accepted = ok(stack.call("POST", f"/v1/{name}:accept", {"token": one_time}, token))
    assert accepted["state"] == "INVITATION_STATE_ACCEPTED", accepted
    return token


def join_program(stack: EdgeStack, program: Page, subject: str) -> str:
    """A viewer joins the program page through its mailed token; returns the viewer's token."""
    email = f"{subject}@example.com"
    invitation = {"email": email, "role": "PAGE_ROLE_VIEWER"}
    invited = ok(stack.call("POST", f"/v1/{program.name}/invitations", invitation, program.owner))
    name, one_time = stack.broker.invitation_token(email, "program_invitation")
    assert name == invited["name"]
    token = stack.token(subject, roles=("program",), email=email)
    accepted = ok(stack.call("POST", f"/v1/{name}:accept", {"token": one_time}, token))
    assert accepted["state"] == "INVITATION_STATE_ACCEPTED", accepted
    return token


def investor_journey(stack: EdgeStack, company: str, contact_email: str) -> InvestorJourney:
    """An investor buys a credit pack (granted only by the provider's signed callback through the
    edge), then unlocks `company` and sees its contacts, which it did not before."""
    investor = investor_page(stack, with_profile=False)
    buyer_email = f"{investor.owner_subject}@example.com"
    spend = {"target": {"kind": "PAGE_KIND_COMPANY", "name": company}}
    unlock_path = f"/v1/{investor.name}/unlocks?requestId={uuid.uuid4().hex}"

    analyst = join_investor(stack, investor, unique("inv-vera"))

    # Before: the public view of the company, no credits, and no unlock without them.
    for viewer in (investor.owner, analyst):
        before = ok(stack.call("GET", f"/v1/{company}", token=viewer))
        assert "contact" not in before and "viewerHasFullAccess" not in before, before
    assert balance(stack, investor.name, investor.owner) == 0
    poor = stack.call("POST", unlock_path, spend, investor.owner)
    assert status_of(poor) == (400, 9, "INSUFFICIENT_CREDITS"), poor.body

    # The credit pack on sale to investors.
    packs = ok(stack.call("GET", "/v1/plans?pageKind=PAGE_KIND_INVESTOR&kind=PLAN_KIND_CREDIT_PACK"))["plans"]
    pack = next(p for p in packs if p["name"] == CREDIT_PACK)
    assert (pack["credits"], pack["price"]) == ("10", eur(7500)), pack

    # The checkout opens a session at the provider; nothing is granted yet. A viewer may not buy.
    viewer_buys = stack.call("POST", f"/v1/{investor.name}/checkouts", {"plan": CREDIT_PACK}, analyst)
    assert status_of(viewer_buys)[:2] == (403, 7), viewer_buys.body
    body = {
        "plan": CREDIT_PACK,
        "successUrl": "http://localhost:3000/billing/done",
        "cancelUrl": "http://localhost:3000/billing",
    }
    checkout = ok(stack.call("POST", f"/v1/{investor.name}/checkouts", body, investor.owner))
    assert (checkout["state"], checkout["amount"]) == ("CHECKOUT_STATE_OPEN", eur(7500)), checkout
    reference, url = checkout["providerReference"], checkout["checkoutUrl"]
    assert reference in url
    url = stack.buyer_url(url)
    assert balance(stack, investor.name, investor.owner) == 0

    # A forged confirmation (wrong secret) is refused at the service and grants nothing.
    forged = {"checkout": reference, "payment": "pay_forged", "amount": 7500, "currency": "EUR"}
    refused = payment_webhook(stack, "checkout.completed", forged, secret="not-the-secret")
    assert status_of(refused) == (401, 16, "SIGNATURE_MISMATCH"), refused.body
    assert balance(stack, investor.name, investor.owner) == 0
    assert ok(stack.call("GET", f"/v1/{checkout['name']}", token=investor.owner))["state"] == "CHECKOUT_STATE_OPEN"

    # The buyer pays on the provider's page; the provider's signed callback goes through Envoy.
    paid = request("POST", url, {"action": "pay"})
    assert paid.status == 200, paid.body
    assert paid.json()["delivered"] == 200, paid.body  # what Envoy + billing answered the provider
    assert balance(stack, investor.name, investor.owner) == 10
    completed = ok(stack.call("GET", f"/v1/{checkout['name']}", token=investor.owner))
    assert completed["state"] == "CHECKOUT_STATE_COMPLETED" and completed["invoice"].startswith(
        f"{investor.name}/invoices/"
    )

    # Redeliveries change nothing: the provider resending the same event, or a new confirmation
    # of the same (now closed) checkout, correctly signed.
    resent = request(
        "POST",
        f"{provider_base(url)}/v1/events/{paid.json()['event']}/resend",
        {},
        {"authorization": f"Bearer {stack.provider_api_key}"},
    )
    assert resent.status == 200 and resent.json()["delivered"] == 200, resent.body
    again = payment_webhook(stack, "checkout.completed", {**forged, "payment": "pay_again"})
    assert again.status == 200, again.body
    assert balance(stack, investor.name, investor.owner) == 10

    # The unlock: one credit, and now the investor sees the company's contacts.
    unlocked = ok(stack.call("POST", unlock_path, spend, investor.owner))
    assert (unlocked["cost"], unlocked["target"]["name"]) == ("1", company), unlocked
    assert balance(stack, investor.name, investor.owner) == 9
    for viewer in (investor.owner, analyst):  # the organisation unlocked: every member sees the contacts
        after = unlocked_view(stack, company, viewer)
        assert after["viewerHasFullAccess"] is True and after["contact"]["email"] == contact_email, after
    twice = ok(stack.call("POST", f"/v1/{investor.name}/unlocks?requestId={uuid.uuid4().hex}", spend, investor.owner))
    assert twice["name"] == unlocked["name"] and balance(stack, investor.name, investor.owner) == 9
    other = investor_page(stack, with_profile=False)  # another organisation did not unlock anything
    assert "contact" not in ok(stack.call("GET", f"/v1/{company}", token=other.owner))

    ledger = ok(stack.call("GET", f"/v1/{investor.name}/ledgerEntries", token=investor.owner))["ledgerEntries"]
    assert [(e["kind"], e["credits"], e["balanceAfter"]) for e in ledger] == [
        ("LEDGER_ENTRY_KIND_SPEND", "-1", "9"),
        ("LEDGER_ENTRY_KIND_GRANT", "10", "10"),
    ], ledger
    return InvestorJourney(investor, buyer_email, checkout["name"], reference, completed["invoice"], unlocked["name"])


def members_known(stack: SuiteStack, page: str, count: int) -> None:
    """Wait until the notification service has projected `count` members of `page` from their events."""
    deadline = time.monotonic() + EVENTUALLY_SECONDS
    while True:
        with SqlNotificationUnitOfWork(stack.notification.engine, read_only=True) as uow:
            if len(uow.memberships.members_of(page)) >= count:
                return
        assert time.monotonic() < deadline, f"the members of {page} did not reach the notification service"
        time.sleep(0.05)


def inbox(stack: SuiteStack, token: str, query: str = "", until: int = 0) -> dict[str, Any]:
    """GET users/me/notifications (polled until it lists `until` notifications)."""
    deadline = time.monotonic() + EVENTUALLY_SECONDS
    while True:
        listed = ok(stack.call("GET", f"/v1/users/me/notifications{query}", token=token))
        if len(listed.get("notifications", [])) >= until or time.monotonic() > deadline:
            return listed


def mails(stack: SuiteStack, email: str, template: str, at_least: int = 1) -> list[mail_pb2.MailRequested]:
    """The MailRequested of `template` to `email` on mail_service_queue (waiting for `at_least`)."""

    def mine(event: Event) -> bool:
        mail = event.payload(mail_pb2.MailRequested)
        return bool(mail.to_email == email and mail.template == template)

    found = stack.broker.wait_for(topology.DIRECT_QUEUES[topology.MAIL], mine, lambda f: len(f) >= at_least)
    return [event.payload(mail_pb2.MailRequested) for event in found]

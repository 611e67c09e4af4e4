"""Entitlements (issue 14), through Envoy to the services on real PostgreSQL, Redis and RabbitMQ.

A free-tier ISV sees at most the free tier's number of match results, the rest counted as hidden; the plan it
buys through the checkout (paid on the local provider's page) lifts the cap at once (matching asks billing's
GetEntitlements; the stack caches it for no time), an upgrade is charged the prorated difference and grants the
credit difference once, a downgrade waits for the period end, and a cancellation brings the cap back.
GetEntitlements reports every entitlement, the free tier's and each plan's. Each other entitlement is enforced by
the service owning the feature and lifted by a plan bought through the checkout: seats (company), directory filters
(the company directory, browsed as an investor page) and contact requests a month (contact). Those services keep
billing's answers for long in this stack (ENTITLEMENTS_CACHE_TTL_SECONDS 300): what lifts the limit at once is
billing's EntitlementsChanged, consumed by each one's `<service>.entitlements` queue.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from billing_service.settings import BillingSettings
from devinsider_common.testing.polling import wait_for
from devinsider_gateway.testing.http import Response, request

from .journeys import (
    CREDIT_PACK,
    balance,
    complete_company,
    eur,
    investor_page,
    match_on_the_page,
    ok,
    provider_base,
    published_program,
)
from .suite_stack import CONTACT_REQUESTS_PER_DAY, EVENTUALLY_SECONDS, SuiteStack, create_company, status_of, unique

FREE_CAP = BillingSettings().free_tier_match_results_visible
STARTER, PRO = "plans/isv-starter-monthly", "plans/isv-pro-monthly"
INVESTOR_PLAN = "plans/investor-monthly"
FREE = BillingSettings().free_tier()
RETURN = {"successUrl": "http://localhost:3000/billing/done", "cancelUrl": "http://localhost:3000/billing"}


def program_matches(stack: SuiteStack, company: str, token: str) -> dict[str, Any]:
    return ok(stack.call("GET", f"/v1/{company}/matches?targetKind=PAGE_KIND_PROGRAM&pageSize=100", token=token))


def entitlements(stack: SuiteStack, page: str, token: str) -> dict[str, Any]:
    return ok(stack.call("GET", f"/v1/{page}/entitlements", token=token))


def unix(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def test_a_free_isv_hits_its_match_cap_and_a_paying_one_does_not(suite_stack: SuiteStack) -> None:
    stack = suite_stack
    programs = sorted(published_program(stack).name for _ in range(FREE_CAP + 2))  # each wants fintech in France
    owner = stack.token(unique("isv-capped"))
    page = complete_company(f"Capped Fintech {uuid.uuid4().hex[:6]}", "hq@capped.example") | {"industries": ["fintech"]}
    company = create_company(stack, owner, **page)["name"]
    match_on_the_page(stack, company, owner)

    # 1. The free tier: its best matches only (all score 100: ties by name), the others counted, not refused.
    free = entitlements(stack, company, owner)
    assert (free["name"], free["freeTier"], free.get("plan", "")) == (f"{company}/entitlements", True, ""), free
    assert free["entitlements"] == {"matchResultsVisible": FREE_CAP, "contactRequestsPerMonth": 5, "seats": 3}, free
    capped = program_matches(stack, company, owner)
    assert [m["summary"]["page"]["name"] for m in capped["matches"]] == programs[:FREE_CAP], capped
    assert (capped["totalSize"], capped["hiddenMatchCount"]) == (FREE_CAP, 2) and "nextPageToken" not in capped
    assert all(m["score"] == 100 for m in capped["matches"])

    # 2. A plan bought through the checkout, paid on the provider's page (a 14-day trial of ISV Starter).
    checkout = ok(stack.call("POST", f"/v1/{company}/checkouts", {"plan": STARTER, **RETURN}, owner))
    paid = request("POST", stack.buyer_url(checkout["checkoutUrl"]), {"action": "pay"})
    assert paid.status == 200 and paid.json()["delivered"] == 200, paid.body
    starter = entitlements(stack, company, owner)
    assert ("freeTier" not in starter, starter["plan"]) == (True, STARTER), starter  # false: omitted
    assert starter["entitlements"] == {
        "monthlyCredits": "10",
        "matchResultsVisible": 50,
        "directoryFilters": True,
        "contactRequestsPerMonth": 20,
        "seats": 5,
    }, starter
    everything = program_matches(stack, company, owner)
    assert [m["summary"]["page"]["name"] for m in everything["matches"]] == programs, everything
    assert everything["totalSize"] == FREE_CAP + 2 and "hiddenMatchCount" not in everything  # 0: nothing hidden
    [subscription] = ok(stack.call("GET", f"/v1/{company}/subscriptions", token=owner))["subscriptions"]
    assert (subscription["state"], starter["subscription"]) == ("SUBSCRIPTION_STATE_TRIALING", subscription["name"])
    assert starter["periodEndTime"] == subscription["currentPeriodEndTime"]
    assert balance(stack, company, owner) == 10  # the trial's credits

    # 3. The first paid period (the provider renews at the end of the trial), then an upgrade to ISV Pro: charged
    # the price difference for what is left of the period (all of it: it starts at the trial's end), the credit
    # difference granted once.
    trial_end = unix(subscription["currentPeriodEndTime"])
    provider = provider_base(checkout["checkoutUrl"])
    renew = {"period_start": trial_end, "period_end": trial_end + 30 * 86400}
    renewed = request(
        "POST",
        stack.buyer_url(f"{provider}/v1/subscriptions/{subscription['providerReference']}/renew"),
        renew,
        {"authorization": f"Bearer {stack.provider_api_key}"},
    )
    assert renewed.status == 200 and renewed.json()["delivered"] == 200, renewed.body
    assert balance(stack, company, owner) == 20
    change = {"plan": PRO, "requestId": uuid.uuid4().hex}
    upgraded = ok(stack.call("POST", f"/v1/{subscription['name']}:changePlan", change, owner))
    assert (upgraded["plan"], upgraded["price"], upgraded["state"]) == (PRO, eur(9900), "SUBSCRIPTION_STATE_ACTIVE")
    assert ok(stack.call("POST", f"/v1/{subscription['name']}:changePlan", change, owner)) == upgraded  # replayed
    assert balance(stack, company, owner) == 35  # 25 - 10 more, once
    charged = ok(stack.call("GET", f"/v1/{company}/invoices", token=owner))["invoices"][0]
    assert (charged["total"], charged["subscription"]) == (eur(5000), subscription["name"]), charged
    grants = ok(stack.call("GET", f"/v1/{company}/ledgerEntries?kind=LEDGER_ENTRY_KIND_GRANT", token=owner))
    assert [e["credits"] for e in grants["ledgerEntries"]] == ["15", "10", "10"], grants
    pro = entitlements(stack, company, owner)
    assert (pro["plan"], pro["entitlements"]) == (
        PRO,
        {"monthlyCredits": "25", "directoryFilters": True, "contactRequestsPerMonth": 100, "seats": 20},
    ), pro  # no cap on match results
    same = stack.call("POST", f"/v1/{subscription['name']}:changePlan", {"plan": PRO}, owner)
    assert status_of(same) == (400, 9, "SAME_PLAN"), same.body

    # 4. Back down to Starter: at the end of the period, visible on the subscription; Pro's entitlements hold.
    down = ok(stack.call("POST", f"/v1/{subscription['name']}:changePlan", {"plan": STARTER}, owner))
    assert (down["plan"], down["scheduledPlan"]) == (PRO, STARTER), down
    assert entitlements(stack, company, owner)["scheduledPlan"] == STARTER
    assert "hiddenMatchCount" not in program_matches(stack, company, owner)

    # 5. Canceled now: back to the free tier, and to its cap.
    canceled = ok(stack.call("POST", f"/v1/{subscription['name']}:cancel", {"immediately": True}, owner))
    assert canceled["state"] == "SUBSCRIPTION_STATE_CANCELED"
    assert entitlements(stack, company, owner)["freeTier"] is True
    assert program_matches(stack, company, owner)["hiddenMatchCount"] == 2


def test_every_plan_states_what_it_buys(suite_stack: SuiteStack) -> None:
    plans = ok(suite_stack.call("GET", "/v1/plans?pageKind=PAGE_KIND_COMPANY&kind=PLAN_KIND_SUBSCRIPTION"))["plans"]
    assert {p["name"]: p["entitlements"] for p in plans} == {
        STARTER: {
            "monthlyCredits": "10",
            "matchResultsVisible": 50,
            "directoryFilters": True,
            "contactRequestsPerMonth": 20,
            "seats": 5,
        },
        PRO: {"monthlyCredits": "25", "directoryFilters": True, "contactRequestsPerMonth": 100, "seats": 20},
        "plans/isv-pro-yearly": {
            "monthlyCredits": "25",  # 300 a year
            "directoryFilters": True,
            "contactRequestsPerMonth": 100,
            "seats": 20,
        },
    }
    packs = ok(suite_stack.call("GET", "/v1/plans?kind=PLAN_KIND_CREDIT_PACK"))["plans"]
    assert packs and all("entitlements" not in p for p in packs)  # packs buy credits only
    # Other page kinds: a program's own plan and free tier, read by its members only.
    program = published_program(suite_stack)
    free = entitlements(suite_stack, program.name, program.owner)
    assert free["freeTier"] is True and free["entitlements"]["matchResultsVisible"] == FREE_CAP
    stranger = suite_stack.call("GET", f"/v1/{program.name}/entitlements", token=suite_stack.token(unique("nosy")))
    assert status_of(stranger)[:2] == (403, 7), stranger.body


# --- the entitlements other services enforce ---------------------------------------------------------------------


def buy(stack: SuiteStack, page: str, plan: str, token: str) -> None:
    """`plan` bought by `page` through the checkout, paid on the local provider's page."""
    checkout = ok(stack.call("POST", f"/v1/{page}/checkouts", {"plan": plan, **RETURN}, token))
    paid = request("POST", stack.buyer_url(checkout["checkoutUrl"]), {"action": "pay"})
    assert paid.status == 200 and paid.json()["delivered"] == 200, paid.body


def lifted(attempt: Any) -> Response:
    """`attempt()`'s answer once it is no longer refused (its service consumed billing's EntitlementsChanged)."""
    answers: list[Response] = []

    def succeeded() -> bool:
        answers.append(attempt())
        return answers[-1].status == 200

    wait_for(succeeded, timeout=EVENTUALLY_SECONDS, every=0.2)
    return answers[-1]


def detail(response: Response, kind: str) -> dict[str, Any]:
    [found] = [d for d in response.json()["details"] if d["@type"].endswith(kind)]
    return dict(found)


def test_seats_cap_a_free_pages_invitations_until_a_plan_adds_some(suite_stack: SuiteStack) -> None:
    stack = suite_stack
    owner = stack.token(unique("isv-seats"))
    company = create_company(stack, owner, displayName=f"Seated {uuid.uuid4().hex[:6]}")["name"]

    def invite(who: str) -> Response:
        body = {"email": f"{who}@seats.example", "role": "PAGE_ROLE_VIEWER"}
        return stack.call("POST", f"/v1/{company}/invitations", body, owner)

    for n in range(FREE.seats - 1):  # the owner and pending invitations fill the free tier's seats
        ok(invite(f"colleague-{n}"))
    refused = invite("one-too-many")
    assert status_of(refused) == (429, 8, "SEATS_EXHAUSTED"), refused.body
    assert detail(refused, "ErrorInfo")["metadata"]["entitlement"] == "seats"
    [violation] = detail(refused, "QuotaFailure")["violations"]
    assert violation["subject"] == f"{company}/entitlements#seats" and "lifts it" in violation["description"]

    buy(stack, company, STARTER, owner)  # 5 seats
    assert lifted(lambda: invite("one-too-many")).status == 200
    ok(invite("fifth"))
    assert status_of(invite("sixth"))[2] == "SEATS_EXHAUSTED"  # 5 taken: the plan's cap holds in turn


def test_directory_filters_need_a_page_whose_plan_includes_them(suite_stack: SuiteStack) -> None:
    stack = suite_stack
    tag = uuid.uuid4().hex[:8]
    isv_owner = stack.token(unique("isv-listed"))
    listed = create_company(stack, isv_owner, **complete_company(f"Listed {tag}", "hq@listed.example"))["name"]
    investor = investor_page(stack, with_profile=False)
    search = f"/v1/companies?query={tag}"
    filtered = f"{search}&hqCountryCodes=FR&viewerPage={investor.name}"

    assert [c["name"] for c in ok(stack.call("GET", search))["companies"]] == [listed]  # a search: anyone
    anonymous = stack.call("GET", f"{search}&hqCountryCodes=FR")
    assert status_of(anonymous)[:2] == (401, 16), anonymous.body
    no_page = stack.call("GET", f"{search}&hqCountryCodes=FR", token=investor.owner)
    assert status_of(no_page) == (403, 7, "DIRECTORY_FILTERS_NOT_ENTITLED"), no_page.body
    free = stack.call("GET", filtered, token=investor.owner)
    assert status_of(free) == (403, 7, "DIRECTORY_FILTERS_NOT_ENTITLED"), free.body
    assert detail(free, "ErrorInfo")["metadata"] == {
        "entitlement": "directory_filters",
        "page": investor.name,
        "upgrade": "a plan that includes more lifts it (GET /v1/plans, then a checkout)",
    }
    not_mine = stack.call("GET", filtered, token=stack.token(unique("nosy"), roles=("investor",)))
    assert status_of(not_mine) == (403, 7, "PAGE_PERMISSION_DENIED"), not_mine.body

    buy(stack, investor.name, INVESTOR_PLAN, investor.owner)
    allowed = lifted(lambda: stack.call("GET", filtered, token=investor.owner))
    assert [c["name"] for c in allowed.json()["companies"]] == [listed], allowed.body
    elsewhere = ok(stack.call("GET", f"{search}&hqCountryCodes=DE&viewerPage={investor.name}", token=investor.owner))
    assert "companies" not in elsewhere  # the filter applies


def test_a_free_page_sends_its_monthly_contact_requests_then_a_plan_lifts_the_cap(suite_stack: SuiteStack) -> None:
    stack = suite_stack
    # The contact service's clock in the middle of next month: a day moved on below stays in that month.
    now = datetime.now(UTC)
    next_month = (now.replace(day=1) + timedelta(days=32)).replace(day=10, hour=12, minute=0, second=0, microsecond=0)
    stack.contact_clock.advance(seconds=(next_month - now).total_seconds() - stack.contact_clock.offset.total_seconds())
    investor = investor_page(stack, with_profile=False)
    victor = ok(stack.call("GET", "/v1/users/me", token=investor.owner))["name"]
    buy(stack, investor.name, CREDIT_PACK, investor.owner)  # credits to unlock with, no plan
    assert balance(stack, investor.name, investor.owner) == 10
    targets = []
    for n in range(FREE.contact_requests_per_month + 1):
        owner = stack.token(unique("isv-target"))
        body = complete_company(f"Target {n} {uuid.uuid4().hex[:6]}", f"hq{n}@targets.example")
        target = create_company(stack, owner, **body)["name"]
        spend = {"target": {"kind": "PAGE_KIND_COMPANY", "name": target}}
        ok(stack.call("POST", f"/v1/{investor.name}/unlocks?requestId={uuid.uuid4().hex}", spend, investor.owner))
        targets.append(target)

    def send(target: str) -> Response:
        body = {"target": {"name": target}, "message": "Hello, shall we talk?", "senderContact": {"user": victor}}
        path = f"/v1/{investor.name}/contactRequests?requestId={uuid.uuid4().hex}"
        return stack.call("POST", path, body, investor.owner)

    def sent(target: str) -> None:  # once the contact service projected the unlock
        answer = lifted(lambda: send(target))
        assert answer.status == 200, answer.body

    for target in targets[:CONTACT_REQUESTS_PER_DAY]:
        sent(target)
    stack.contact_clock.advance(days=1)  # past the daily rate, still in the month
    for target in targets[CONTACT_REQUESTS_PER_DAY : FREE.contact_requests_per_month]:
        sent(target)
    wait_for(lambda: status_of(send(targets[-1]))[2] != "CONTACT_REQUIRES_UNLOCK", timeout=EVENTUALLY_SECONDS)
    refused = send(targets[-1])
    assert status_of(refused) == (429, 8, "CONTACT_REQUESTS_PLAN_LIMIT"), refused.body
    assert detail(refused, "ErrorInfo")["metadata"]["limit"] == str(FREE.contact_requests_per_month)
    assert detail(refused, "QuotaFailure")["violations"][0]["subject"].endswith("#contact_requests_per_month")
    assert detail(refused, "RetryInfo")["retryDelay"].endswith("s")  # until the next month

    buy(stack, investor.name, INVESTOR_PLAN, investor.owner)  # 100 a month
    sent(targets[-1])

"""Entitlements (issue 14), through Envoy to the services on real PostgreSQL, Redis and RabbitMQ.

A free-tier ISV sees at most the free tier's number of match results, the rest counted as hidden; the plan it
buys through the checkout (paid on the local provider's page) lifts the cap at once (matching asks billing's
GetEntitlements; the stack caches it for no time), an upgrade is charged the prorated difference and grants the
credit difference once, a downgrade waits for the period end, and a cancellation brings the cap back.
GetEntitlements reports every entitlement, the free tier's and each plan's: the ones other services enforce
(directory filters, contact requests a month, seats) are checked there.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from billing_service.settings import BillingSettings
from devinsider_gateway.testing.http import request

from .journeys import balance, complete_company, eur, match_on_the_page, ok, provider_base, published_program
from .suite_stack import SuiteStack, create_company, status_of, unique

FREE_CAP = BillingSettings().free_tier_match_results_visible
STARTER, PRO = "plans/isv-starter-monthly", "plans/isv-pro-monthly"
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

"""Entitlements: each plan's, the free tier (settings) for a page without a live subscription, GetEntitlements,
and EntitlementsChanged exactly when a page moves to another plan or to or from the free tier."""

from __future__ import annotations

from datetime import timedelta

from billing_service.domain.entitlements import Entitlements, PageEntitlements
from billing_service.settings import BillingSettings
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind, PageName

from ..fakes import CATALOGUE
from ..harness import ACME, SERVICE, STAFF, Billing, new_billing

FREE = BillingSettings().free_tier()


def subscribe(billing: Billing, owner: Principal, plan_id: str, amount: int | None = None) -> str:
    created = billing.checkout(owner, ACME, plan_id)
    billing.pay(created, amount)
    return billing.app.checkouts.get(owner, ACME, created.id).subscription_id


def announced(billing: Billing) -> list[tuple[str, str, bool]]:
    """(plan, previous plan, free tier) of every EntitlementsChanged so far."""
    events = billing.published("entitlements_changed")
    return [(e.args[0].plan_id, e.args[1], e.args[0].free_tier) for e in events]


def test_each_subscription_plan_states_what_it_buys() -> None:
    """The table of services/billing/README.md (monthly credits, match results visible, directory filters,
    contact requests a month, seats); credit packs buy credits only."""
    table = {p.id: p.entitlements for p in CATALOGUE}
    starter, pro, investor, program = (
        Entitlements(10, 50, True, 20, 5),
        Entitlements(25, 0, True, 100, 20),
        Entitlements(20, 0, True, 100, 20),
        Entitlements(30, 0, True, 200, 50),
    )
    assert table == {
        "isv-starter-monthly": starter,
        "isv-pro-monthly": pro,
        "isv-pro-yearly": pro,  # 300 credits a year: 25 a month
        "investor-monthly": investor,
        "investor-yearly": investor,
        "program-monthly": program,
        "program-yearly": program,
        "isv-credits-10": None,
        "isv-credits-50": None,
        "investor-credits-10": None,
        "program-credits-10": None,
    }
    assert BillingSettings().free_tier() == Entitlements(0, 10, False, 5, 3)  # the defaults


def test_a_page_without_a_live_subscription_has_the_free_tier(billing: Billing, owner: Principal) -> None:
    assert billing.app.entitlements.get(owner, ACME) == PageEntitlements(ACME, FREE)
    billing.pay(billing.checkout(owner, ACME, "isv-credits-10"))  # a credit pack is no subscription
    free = billing.app.entitlements.get(owner, ACME)
    assert free.free_tier and free.entitlements == FREE and free.period_end is None
    assert announced(billing) == []


def test_the_free_tier_comes_from_the_settings(owner: Principal) -> None:
    billing = new_billing(
        free_tier_match_results_visible=3,
        free_tier_directory_filters=True,
        free_tier_contact_requests_per_month=0,
        free_tier_seats=1,
    )
    billing.member(ACME, owner.subject)
    assert billing.app.entitlements.get(owner, ACME).entitlements == Entitlements(0, 3, True, 0, 1)


def test_a_live_subscription_entitles_to_its_plan_until_it_ends(billing: Billing, owner: Principal) -> None:
    subscription_id = subscribe(billing, owner, "isv-starter-monthly", amount=0)  # trialing
    trial = billing.app.entitlements.get(owner, ACME)
    assert (trial.plan_id, trial.subscription_id, trial.free_tier) == ("isv-starter-monthly", subscription_id, False)
    assert trial.entitlements == Entitlements(10, 50, True, 20, 5)
    assert trial.period_end == billing.clock() + timedelta(days=14) and trial.name == f"{ACME.name}/entitlements"

    billing.clock.advance(days=15)
    billing.app.jobs.run()  # the trial ended unpaid: past due, still the plan's (the grace period)
    assert billing.app.subscriptions.get(owner, ACME, subscription_id).state.name == "PAST_DUE"
    assert billing.app.entitlements.get(owner, ACME).plan_id == "isv-starter-monthly"
    billing.clock.advance(days=billing.settings.past_due_grace_days)
    billing.app.jobs.run()  # expired: back to the free tier
    assert billing.app.entitlements.get(owner, ACME) == PageEntitlements(ACME, FREE)
    assert announced(billing) == [("isv-starter-monthly", "", False), ("", "isv-starter-monthly", True)]


def test_a_cancellation_now_or_by_the_provider_announces_the_free_tier(billing: Billing, owner: Principal) -> None:
    first = subscribe(billing, owner, "isv-pro-monthly")
    billing.app.subscriptions.cancel(owner, ACME, first, immediately=False, reason="")
    assert billing.app.entitlements.get(owner, ACME).plan_id == "isv-pro-monthly"  # until the period ends
    billing.app.subscriptions.cancel(owner, ACME, first, immediately=True, reason="")
    assert billing.app.entitlements.get(owner, ACME).free_tier
    second = subscribe(billing, owner, "isv-pro-yearly")
    reference = billing.app.subscriptions.get(owner, ACME, second).provider_reference
    billing.send("subscription.canceled", {"subscription": reference})
    assert announced(billing) == [
        ("isv-pro-monthly", "", False),
        ("", "isv-pro-monthly", True),
        ("isv-pro-yearly", "", False),
        ("", "isv-pro-yearly", True),
    ]
    [event] = billing.published("entitlements_changed")[-1:]
    assert event.args[0] == PageEntitlements(ACME, FREE)


def test_staff_and_services_read_any_pages_entitlements(billing: Billing) -> None:
    somewhere = PageName(PageKind.PROGRAM, "p-unknown")  # billing knows no pages: never subscribed is free
    assert billing.app.entitlements.get(SERVICE, somewhere) == PageEntitlements(somewhere, FREE)
    assert billing.app.entitlements.get(STAFF, somewhere).free_tier

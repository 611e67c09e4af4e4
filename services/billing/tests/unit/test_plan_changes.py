"""Plan changes (ChangeSubscriptionPlan): an upgrade now with a prorated charge and the extra credits granted
once, anything else at the end of the period (cancellable by another change), the refusals; and the credits of
a period granted once whatever the provider sends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import grpc
import pytest

from billing_service.domain import plan_changes as rules
from billing_service.domain.money import Money
from billing_service.domain.subscriptions import Subscription, SubscriptionState
from billing_service.service_layer import invoicing
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure

from ..fakes import CATALOGUE, seeded_store
from ..harness import ACME, Billing, new_billing

PRO = next(p for p in CATALOGUE if p.id == "isv-pro-monthly")
# A cheaper monthly ISV plan without a trial (the seeded Starter has one), and plans that must be refused.
BASIC = replace(PRO, id="isv-basic-monthly", display_name="ISV Basic", price=Money("EUR", 2900), credits=5)
DOLLARS = replace(PRO, id="isv-pro-usd", price=Money("USD", 12900))
RETIRED = replace(PRO, id="isv-pro-2025", price=Money("EUR", 19900), active=False)
Refused = Failure


@pytest.fixture
def billing() -> Billing:
    return new_billing(seeded_store(BASIC, DOLLARS, RETIRED), tax_rate_bps=2000)


@pytest.fixture
def owner(billing: Billing) -> Principal:
    return billing.member(ACME, "kc-owner", email="owner@acme.io")


def subscribe(billing: Billing, owner: Principal, plan_id: str, amount: int | None = None) -> Subscription:
    created = billing.checkout(owner, ACME, plan_id)
    billing.pay(created, amount)
    return current(billing, owner, billing.app.checkouts.get(owner, ACME, created.id).subscription_id)


def current(billing: Billing, owner: Principal, subscription_id: str) -> Subscription:
    return billing.app.subscriptions.get(owner, ACME, subscription_id)


def change(
    billing: Billing, owner: Principal, subscription: Subscription, plan_id: str, request_id: str = ""
) -> Subscription:
    return billing.app.plan_changes.change(owner, ACME, subscription.id, plan_id, request_id)


def renew(billing: Billing, subscription: Subscription, amount: int, payment: str, **period: datetime) -> bool:
    data = {"subscription": subscription.provider_reference, "payment": payment, "amount": amount, "currency": "EUR"}
    return billing.send("subscription.renewed", data | {k: int(v.timestamp()) for k, v in period.items()})


# --- the arithmetic ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("difference", "left", "expected"),
    [
        (7000, timedelta(days=30), 7000),  # the whole period left: the whole difference
        (7000, timedelta(days=15), 3500),
        (100, timedelta(days=10), 33),  # 33.33 rounds down
        (100, timedelta(days=20), 67),  # 66.67 rounds up
        (1, timedelta(days=15), 1),  # 0.5: half up
        (3, timedelta(days=5), 1),  # 0.5: half up
        (7000, timedelta(0), 0),  # the period is over
        (7000, timedelta(days=-3), 0),  # ... for a while
        (7000, timedelta(days=45), 7000),  # not started yet: never more than the difference
    ],
)
def test_the_difference_is_prorated_over_the_time_left_rounded_half_up(
    difference: int, left: timedelta, expected: int
) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = start + timedelta(days=30)
    assert rules.prorate(Money("EUR", difference), start, end, end - left) == Money("EUR", expected)


# --- upgrades -----------------------------------------------------------------------------------------------


def test_an_upgrade_takes_effect_at_once_charged_the_prorated_difference(billing: Billing, owner: Principal) -> None:
    basic = subscribe(billing, owner, BASIC.id)  # 2900 + 20 % tax, 5 credits, March 10 -> April 10 (31 days)
    assert (basic.state, billing.balance(ACME)) == (SubscriptionState.ACTIVE, 5)
    billing.clock.advance(days=10)  # 21 of 31 days left

    upgraded = change(billing, owner, basic, PRO.id, request_id="up-1")
    assert (upgraded.plan_id, upgraded.price, upgraded.scheduled_plan_id) == (PRO.id, PRO.price, "")
    assert (upgraded.current_period_start, upgraded.current_period_end) == (
        basic.current_period_start,
        basic.current_period_end,
    )  # the period goes on
    # (9900 - 2900) x 21/31 = 4741.94 -> 4742, plus 20 % tax = 948.4 -> 948.
    [told] = billing.provider.changes
    assert (told.charge, told.amount, told.at_period_end) == (Money("EUR", 5690), Money("EUR", 11880), False)
    assert told.reference == basic.provider_reference
    assert billing.balance(ACME) == 5 + 20  # the new plan's 25 credits a period, minus the 5 already granted

    invoices, _ = billing.app.invoices.list_invoices(owner, ACME, 0, "", None)
    upgrade_invoice = invoices[0]  # newest first
    assert (upgrade_invoice.subtotal, upgrade_invoice.tax, upgrade_invoice.total) == (
        Money("EUR", 4742),
        Money("EUR", 948),
        Money("EUR", 5690),
    )
    assert upgrade_invoice.subscription_id == basic.id and upgrade_invoice.provider_reference.startswith("pay_change_")
    assert "upgrade from ISV Basic" in upgrade_invoice.lines[0].description and upgrade_invoice.credits_entry_id
    assert billing.published("payment_succeeded")[-1].args == (upgrade_invoice, "owner@acme.io")
    [(entitled, previous)] = [e.args for e in billing.published("entitlements_changed")][1:]
    assert (entitled.plan_id, previous, entitled.entitlements.monthly_credits) == (PRO.id, BASIC.id, 25)
    changed = billing.published("subscription_changed")[-1].args
    assert (changed[0].plan_id, changed[1]) == (PRO.id, SubscriptionState.ACTIVE)

    # The same request id again: nothing more is charged or granted.
    assert change(billing, owner, basic, PRO.id, request_id="up-1") == current(billing, owner, basic.id)
    assert len(billing.provider.changes) == 1 and billing.balance(ACME) == 25
    assert len(billing.app.invoices.list_invoices(owner, ACME, 0, "", None)[0]) == 2
    # Nothing above PRO to go to now: asking for it again is refused.
    assert failure(lambda: change(billing, owner, basic, PRO.id)) == Refused(
        grpc.StatusCode.FAILED_PRECONDITION, "SAME_PLAN"
    )


def test_an_upgrade_retried_after_a_failed_commit_is_charged_once(
    billing: Billing, owner: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    basic = subscribe(billing, owner, BASIC.id)
    issue = invoicing.issue_paid

    def crash(*args: object, **kwargs: object) -> None:  # the provider charged, then the transaction failed
        monkeypatch.setattr(invoicing, "issue_paid", issue)
        raise errors.Unavailable("the database went away")

    monkeypatch.setattr(invoicing, "issue_paid", crash)
    assert failure(lambda: change(billing, owner, basic, PRO.id)).code == grpc.StatusCode.UNAVAILABLE
    assert current(billing, owner, basic.id).plan_id == BASIC.id and billing.balance(ACME) == 5  # rolled back

    upgraded = change(billing, owner, basic, PRO.id)  # the client retries (no request id even)
    first, second = billing.provider.changes
    assert first.idempotency_key == second.idempotency_key  # so the provider answers with the first charge
    assert len(billing.provider.charged) == 1 and upgraded.plan_id == PRO.id and billing.balance(ACME) == 25
    invoices, _ = billing.app.invoices.list_invoices(owner, ACME, 0, "", None)
    assert invoices[0].provider_reference == next(iter(billing.provider.charged.values())).payment


def test_an_upgrade_during_the_trial_charges_nothing_and_grants_the_difference_once(
    billing: Billing, owner: Principal
) -> None:
    trial = subscribe(billing, owner, "isv-starter-monthly", amount=0)  # 14 days free, 10 credits
    assert (trial.state, billing.balance(ACME)) == (SubscriptionState.TRIALING, 10)
    upgraded = change(billing, owner, trial, PRO.id)
    assert (upgraded.state, upgraded.plan_id, upgraded.trial_end) == (
        SubscriptionState.TRIALING,
        PRO.id,
        trial.trial_end,
    )
    [told] = billing.provider.changes
    assert (told.charge, told.amount, told.at_period_end) == (None, Money("EUR", 11880), False)  # paid after the trial
    assert billing.balance(ACME) == 25 and billing.published("payment_succeeded") == []  # no invoice
    # The first paid period starts on the new plan at its price, with its credits.
    billing.clock.advance(days=14)
    assert renew(billing, trial, 11880, "pay_1")
    assert current(billing, owner, trial.id).state is SubscriptionState.ACTIVE and billing.balance(ACME) == 50


def test_a_declined_charge_changes_nothing(billing: Billing, owner: Principal) -> None:
    basic = subscribe(billing, owner, BASIC.id)
    billing.provider.refuse = errors.FailedPrecondition("the card was declined", reason="PAYMENT_DECLINED")
    assert failure(lambda: change(billing, owner, basic, PRO.id)) == Refused(
        grpc.StatusCode.FAILED_PRECONDITION, "PAYMENT_DECLINED"
    )
    assert current(billing, owner, basic.id) == basic and billing.balance(ACME) == 5
    assert billing.published("entitlements_changed")[-1].args[0].plan_id == BASIC.id  # the start's, only


# --- changes at the end of the period -------------------------------------------------------------------------


def test_a_downgrade_waits_for_the_period_end_and_can_be_called_off(billing: Billing, owner: Principal) -> None:
    pro = subscribe(billing, owner, PRO.id)
    announced = len(billing.published("entitlements_changed"))

    scheduled = change(billing, owner, pro, BASIC.id)
    assert (scheduled.plan_id, scheduled.price, scheduled.scheduled_plan_id) == (PRO.id, PRO.price, BASIC.id)
    told = billing.provider.changes[-1]
    assert (told.charge, told.amount, told.at_period_end) == (None, Money("EUR", 3480), True)  # from the next cycle
    assert billing.balance(ACME) == 25 and len(billing.app.invoices.list_invoices(owner, ACME, 0, "", None)[0]) == 1
    entitled = billing.app.entitlements.get(owner, ACME)
    assert (entitled.plan_id, entitled.scheduled_plan_id, entitled.period_end) == (
        PRO.id,
        BASIC.id,
        pro.current_period_end,
    )
    assert len(billing.published("entitlements_changed")) == announced  # nothing changes before the period ends

    # Asking for the current plan calls the change off (and tells the provider the price stays).
    kept = change(billing, owner, pro, PRO.id)
    assert (kept.plan_id, kept.scheduled_plan_id) == (PRO.id, "")
    assert (billing.provider.changes[-1].amount, billing.provider.changes[-1].at_period_end) == (
        Money("EUR", 11880),
        True,
    )
    assert failure(lambda: change(billing, owner, pro, PRO.id)).reason == "SAME_PLAN"  # nothing to call off now

    # Scheduled again: the renewal that starts the next period starts it on Basic, at its price, with its credits.
    change(billing, owner, pro, BASIC.id)
    billing.clock.advance(days=31)
    assert renew(billing, pro, 11880, "pay_old_price")  # the old price for the next period is a failed payment
    assert current(billing, owner, pro.id).state is SubscriptionState.PAST_DUE
    assert renew(billing, pro, 3480, "pay_basic")
    renewed = current(billing, owner, pro.id)
    assert (renewed.state, renewed.plan_id, renewed.price, renewed.scheduled_plan_id) == (
        SubscriptionState.ACTIVE,
        BASIC.id,
        BASIC.price,
        "",
    )
    assert renewed.current_period_start == pro.current_period_end and billing.balance(ACME) == 25 + 5
    (entitled_now, previous) = billing.published("entitlements_changed")[-1].args
    assert (entitled_now.plan_id, previous) == (BASIC.id, PRO.id)
    assert billing.app.entitlements.get(owner, ACME).plan_id == BASIC.id


def test_a_change_of_interval_waits_for_the_period_end(billing: Billing, owner: Principal) -> None:
    pro = subscribe(billing, owner, PRO.id)
    yearly = change(billing, owner, pro, "isv-pro-yearly")  # dearer, but by the year: nothing to prorate
    assert (yearly.plan_id, yearly.scheduled_plan_id) == (PRO.id, "isv-pro-yearly")
    told = billing.provider.changes[-1]
    assert (told.charge, told.amount, told.interval.name, told.at_period_end) == (
        None,
        Money("EUR", 118800),
        "YEAR",
        True,
    )
    billing.clock.advance(days=31)
    assert renew(billing, pro, 118800, "pay_year")
    renewed = current(billing, owner, pro.id)
    assert renewed.plan_id == "isv-pro-yearly" and renewed.current_period_end == datetime(
        2027, 4, 10, 9, 30, tzinfo=UTC
    )
    assert billing.balance(ACME) == 25 + 300


def test_what_a_change_refuses(billing: Billing, owner: Principal) -> None:
    pro = subscribe(billing, owner, PRO.id)
    invalid, precondition = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION
    cases = {
        "unknown": Refused(invalid, "INVALID_ARGUMENT", ["plan"]),
        RETIRED.id: Refused(invalid, "INVALID_ARGUMENT", ["plan"]),  # no longer on sale
        "isv-credits-10": Refused(invalid, "INVALID_ARGUMENT", ["plan"]),  # a credit pack
        "investor-monthly": Refused(invalid, "INVALID_ARGUMENT", ["plan"]),  # for investor pages
        DOLLARS.id: Refused(precondition, "CURRENCY_MISMATCH"),
        PRO.id: Refused(precondition, "SAME_PLAN"),
    }
    assert {plan: failure(partial(change, billing, owner, pro, plan)) for plan in cases} == cases
    assert failure(lambda: billing.app.plan_changes.change(owner, ACME, "missing", BASIC.id, "")).code == (
        grpc.StatusCode.NOT_FOUND
    )
    viewer = billing.member(ACME, "kc-viewer", PageRole.VIEWER)
    assert failure(lambda: change(billing, viewer, pro, BASIC.id)).reason == "PAGE_PERMISSION_DENIED"

    billing.app.subscriptions.cancel(owner, ACME, pro.id, immediately=False, reason="")
    assert failure(lambda: change(billing, owner, pro, BASIC.id)) == Refused(precondition, "ALREADY_CANCELING")
    billing.app.subscriptions.cancel(owner, ACME, pro.id, immediately=True, reason="")
    assert failure(lambda: change(billing, owner, pro, BASIC.id)) == Refused(precondition, "SUBSCRIPTION_STATE")
    assert billing.provider.changes == [] and billing.balance(ACME) == 25


def test_a_past_due_subscription_pays_before_it_changes(billing: Billing, owner: Principal) -> None:
    pro = subscribe(billing, owner, BASIC.id)
    billing.send("subscription.payment_failed", {"subscription": pro.provider_reference})
    assert failure(lambda: change(billing, owner, pro, PRO.id)) == Refused(
        grpc.StatusCode.FAILED_PRECONDITION, "SUBSCRIPTION_STATE"
    )


def test_another_pages_subscription_is_not_found(billing: Billing, owner: Principal) -> None:
    pro = subscribe(billing, owner, PRO.id)
    other = PageName(PageKind.COMPANY, "other")
    theirs = billing.member(other, "kc-other")
    refused = failure(lambda: billing.app.plan_changes.change(theirs, other, pro.id, BASIC.id, ""))
    assert refused.code == grpc.StatusCode.NOT_FOUND


# --- credits once per period ------------------------------------------------------------------------------------


def test_the_credits_of_a_period_are_granted_once_whatever_the_provider_sends(
    billing: Billing, owner: Principal
) -> None:
    pro = subscribe(billing, owner, PRO.id)
    start, end = pro.current_period_end, pro.current_period_end + timedelta(days=30)
    assert renew(billing, pro, 11880, "pay_1", period_start=start, period_end=end)
    assert billing.balance(ACME) == 50
    # A second payment event for the same period (another event id, another payment): invoiced, no credits.
    assert renew(billing, pro, 11880, "pay_2", period_start=start, period_end=end)
    assert billing.balance(ACME) == 50
    invoices, _ = billing.app.invoices.list_invoices(owner, ACME, 0, "", None)
    assert [i.provider_reference for i in invoices[:2]] == ["pay_2", "pay_1"]
    assert [bool(i.credits_entry_id) for i in invoices] == [False, True, True]  # the checkout's has its period's
    entries, _ = billing.app.ledger.list_ledger_entries(owner, ACME, 0, "", None)
    keys = [e.request_id for e in reversed(entries)]
    assert keys == [
        f"period:{pro.id}:{int(pro.current_period_start.timestamp())}",
        f"period:{pro.id}:{int(start.timestamp())}",
    ]

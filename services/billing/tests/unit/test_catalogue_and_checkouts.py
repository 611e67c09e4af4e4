"""The plans catalogue, checkouts (validation, idempotency, what the provider is asked) and invoices."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import grpc
import pytest

from billing_service.domain.checkouts import CheckoutState
from billing_service.domain.invoices import InvoiceState
from billing_service.domain.money import Money
from billing_service.domain.plans import Interval, PlanKind
from billing_service.service_layer import checkouts
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.unit_of_work import DuplicateRecord

from ..fakes import CATALOGUE, seeded_store
from ..harness import ACME, ORIGIN, STAFF, Billing, new_billing


def test_plans_list_cheapest_first_filtered_and_in_windows(billing: Billing) -> None:
    everything, token = billing.app.catalogue.list_plans(0, "", None, None, False)
    assert token == "" and len(everything) == 11
    prices = [p.price.amount_minor for p in everything]
    assert prices == sorted(prices)
    packs, _ = billing.app.catalogue.list_plans(0, "", PageKind.COMPANY, PlanKind.CREDIT_PACK, False)
    assert [p.name for p in packs] == ["plans/isv-credits-10", "plans/isv-credits-50"]
    assert all(p.interval is Interval.NONE for p in packs)
    seen: list[str] = []
    token = ""
    while True:
        window, token = billing.app.catalogue.list_plans(4, token, None, None, False)
        assert len(window) <= 4
        seen += [p.name for p in window]
        if not token:
            break
    assert seen == [p.name for p in everything]
    refused = failure(lambda: billing.app.catalogue.list_plans(0, token or "bogus", None, None, False))
    assert refused == Failure(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["page_token"])
    assert failure(lambda: billing.app.catalogue.list_plans(-2, "", None, None, False)).fields == ["page_size"]


def test_inactive_plans_are_listed_only_when_asked_and_not_sold() -> None:
    legacy = replace(CATALOGUE[7], id="isv-credits-5", price=Money("EUR", 3000), active=False)
    billing = new_billing(seeded_store(legacy))
    owner = billing.member(ACME, "kc-owner")
    shown, _ = billing.app.catalogue.list_plans(0, "", PageKind.COMPANY, PlanKind.CREDIT_PACK, False)
    assert [p.id for p in shown] == ["isv-credits-10", "isv-credits-50"]
    everything, _ = billing.app.catalogue.list_plans(0, "", PageKind.COMPANY, PlanKind.CREDIT_PACK, True)
    assert [p.id for p in everything] == ["isv-credits-5", "isv-credits-10", "isv-credits-50"]
    refused = failure(lambda: billing.checkout(owner, ACME, "isv-credits-5"))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["checkout.plan"])


def test_a_plan_is_read_by_id(billing: Billing) -> None:
    yearly = billing.app.catalogue.get_plan("isv-pro-yearly")
    assert (yearly.interval, yearly.credits, yearly.kind) == (Interval.YEAR, 300, PlanKind.SUBSCRIPTION)
    assert failure(lambda: billing.app.catalogue.get_plan("nope")).code == grpc.StatusCode.NOT_FOUND


def test_a_checkout_asks_the_provider_for_the_plan_price_with_taxes(billing: Billing, owner: Principal) -> None:
    created = billing.checkout(owner, ACME, "isv-credits-10")
    assert created.state is CheckoutState.OPEN and created.amount == Money("EUR", 5000)
    assert created.checkout_url == "https://pay.example/cs_1" and created.provider_reference == "cs_1"
    assert created.expire_time == billing.clock() + timedelta(minutes=60)
    assert (created.creator, created.contact_email) == ("kc-owner", "owner@acme.io")
    [asked] = billing.provider.checkouts
    assert (asked.reference, asked.amount, asked.subscription_interval) == (created.name, created.amount, Interval.NONE)
    assert (asked.success_url, asked.cancel_url, asked.customer_email) == (
        f"{ORIGIN}/done",
        f"{ORIGIN}/done",
        "owner@acme.io",
    )
    assert billing.app.checkouts.get(owner, ACME, created.id) == created
    assert billing.balance(ACME) == 0  # nothing until the provider confirms


def test_taxes_are_added_and_subscriptions_tell_the_provider_their_interval_and_trial() -> None:
    billing = new_billing(tax_rate_bps=2000, checkout_ttl_minutes=5)
    buyer = billing.member(ACME, "kc-buyer")
    created = billing.checkout(buyer, ACME, "isv-starter-monthly")
    assert created.amount == Money("EUR", 5880) and created.expire_time == billing.clock() + timedelta(minutes=5)
    [asked] = billing.provider.checkouts
    assert (asked.subscription_interval, asked.trial_days, asked.amount) == (Interval.MONTH, 14, Money("EUR", 5880))


@pytest.mark.parametrize(
    ("plan", "success_url", "cancel_url", "field"),
    [
        ("investor-monthly", f"{ORIGIN}/ok", "", "checkout.plan"),  # sold to investors only
        ("nope", f"{ORIGIN}/ok", "", "checkout.plan"),
        ("isv-credits-10", "", "", "checkout.success_url"),
        ("isv-credits-10", "ftp://app.example.com/x", "", "checkout.success_url"),
        ("isv-credits-10", "https://evil.example/ok", "", "checkout.success_url"),
        ("isv-credits-10", f"{ORIGIN}/ok", "https://evil.example/back", "checkout.cancel_url"),
    ],
)
def test_bad_checkouts_name_the_field_and_ask_nothing(
    billing: Billing, owner: Principal, plan: str, success_url: str, cancel_url: str, field: str
) -> None:
    refused = failure(lambda: billing.app.checkouts.create(owner, ACME, plan, success_url, cancel_url, ""))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [field])
    assert billing.provider.checkouts == []


def test_checkout_request_ids_make_retries_safe(billing: Billing, owner: Principal) -> None:
    first = billing.checkout(owner, ACME, "isv-credits-10", request_id="same")
    again = billing.checkout(owner, ACME, "isv-credits-10", request_id="same")
    assert again == first and len(billing.provider.checkouts) == 1
    other = billing.checkout(owner, ACME, "isv-credits-10", request_id="other")
    assert other.id != first.id


def test_a_checkout_that_lost_a_race_for_its_request_id_answers_the_winner(billing: Billing, owner: Principal) -> None:
    winner = billing.checkout(owner, ACME, "isv-credits-10", request_id="raced")
    billing.stale_reads.append({("checkouts", "by_request")})  # the twin committed after our check
    assert billing.checkout(owner, ACME, "isv-credits-10", request_id="raced") == winner
    assert list(billing.store.tables["checkouts"]) == [winner.id]


def test_a_duplicate_checkout_without_a_request_id_to_answer_is_an_error(billing: Billing, owner: Principal) -> None:
    billing.checkout(owner, ACME, "isv-credits-10", request_id="raced")
    billing.stale_reads += [{("checkouts", "by_request")}, set(), {("checkouts", "by_request")}]  # check, write, twin
    with pytest.raises(DuplicateRecord):
        billing.checkout(owner, ACME, "isv-credits-10", request_id="raced")


def test_a_checkout_meeting_a_twin_it_cannot_answer_is_an_error(
    billing: Billing, owner: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkouts, "new_id", lambda: "same-id")  # two checkouts, one id: no request id to answer
    billing.checkout(owner, ACME, "isv-credits-10")
    with pytest.raises(DuplicateRecord):
        billing.checkout(owner, ACME, "isv-credits-10")


def test_a_page_with_a_live_subscription_cannot_buy_another(billing: Billing, owner: Principal) -> None:
    billing.pay(billing.checkout(owner, ACME, "isv-pro-monthly"))
    refused = failure(lambda: billing.checkout(owner, ACME, "isv-pro-yearly"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_SUBSCRIBED")
    assert billing.checkout(owner, ACME, "isv-credits-10").state is CheckoutState.OPEN  # packs still sell


def test_a_provider_outage_refuses_the_checkout_and_stores_nothing(billing: Billing, owner: Principal) -> None:
    billing.provider.refuse = errors.Unavailable("the payment provider cannot be reached")
    assert failure(lambda: billing.checkout(owner, ACME, "isv-credits-10")).code == grpc.StatusCode.UNAVAILABLE
    assert billing.store.tables.get("checkouts", {}) == {}


def test_unknown_checkouts_and_invoices_are_not_found(billing: Billing, owner: Principal) -> None:
    assert failure(lambda: billing.app.checkouts.get(owner, ACME, "missing")).code == grpc.StatusCode.NOT_FOUND
    assert failure(lambda: billing.app.invoices.get(owner, ACME, "missing")).code == grpc.StatusCode.NOT_FOUND


def test_the_job_expires_open_checkouts_past_their_time(billing: Billing, owner: Principal) -> None:
    stale = billing.checkout(owner, ACME, "isv-credits-10")
    billing.clock.advance(minutes=30)
    fresh = billing.checkout(owner, ACME, "isv-credits-50")
    paid = billing.checkout(owner, ACME, "isv-credits-10", request_id="paid")
    billing.pay(paid)
    billing.clock.advance(minutes=31)
    assert billing.app.jobs.run() == 1
    states = {c.id: billing.app.checkouts.get(owner, ACME, c.id).state for c in (stale, fresh, paid)}
    assert states == {stale.id: CheckoutState.EXPIRED, fresh.id: CheckoutState.OPEN, paid.id: CheckoutState.COMPLETED}
    assert billing.app.jobs.run() == 0
    billing.clock.advance(hours=2)
    billing.stale_reads += [set(), {("checkouts", "get_by_id")}]  # gone by the time it is locked
    assert billing.app.jobs.expire_checkouts() == 0
    billing.pay(stale, event_id="evt_late")  # a late payment of an expired checkout grants nothing
    assert billing.balance(ACME) == 10


def test_invoices_list_newest_first_filtered_by_state(billing: Billing, owner: Principal) -> None:
    first = billing.checkout(owner, ACME, "isv-credits-10")
    second = billing.checkout(owner, ACME, "isv-credits-50")
    billing.pay(first)
    billing.pay(second)
    invoices, token = billing.app.invoices.list_invoices(owner, ACME, 0, "", None)
    assert token == "" and [i.total.amount_minor for i in invoices] == [20000, 5000]
    assert [i.number for i in invoices] == ["DI-2026-000002", "DI-2026-000001"]
    assert all(i.state is InvoiceState.PAID for i in invoices)
    window, token = billing.app.invoices.list_invoices(owner, ACME, 1, "", InvoiceState.PAID)
    assert len(window) == 1 and token
    rest, token = billing.app.invoices.list_invoices(owner, ACME, 1, token, InvoiceState.PAID)
    assert [i.id for i in window + rest] == [i.id for i in invoices] and token == ""
    assert billing.app.invoices.list_invoices(STAFF, ACME, 0, "", InvoiceState.REFUNDED) == ([], "")
    assert billing.app.invoices.get(owner, ACME, invoices[0].id) == invoices[0]


def test_settings_refuse_malformed_unlock_costs() -> None:
    with pytest.raises(ValueError, match="unlock cost"):
        new_billing(unlock_costs={"program": 1})

"""Domain rules of billing, without I/O: money, state machines, ledger, unlock prices, signatures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from billing_service.domain import payment_events
from billing_service.domain.checkouts import Checkout, CheckoutState, ReturnOrigins
from billing_service.domain.invoices import InvoiceLine, InvoiceState, invoice_number, paid_invoice
from billing_service.domain.ledger import InsufficientCredits, LedgerEntryKind, Lot, apply, consume, signed_credits
from billing_service.domain.money import CurrencyMismatch, Money
from billing_service.domain.plans import Interval, add_interval
from billing_service.domain.subscriptions import Subscription, SubscriptionState
from billing_service.domain.unlocks import TargetState, UnlockPrices, require_unlockable
from devinsider_common import errors
from devinsider_common.pages.names import PageKind, PageName

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)
ACME = PageName(PageKind.COMPANY, "acme")


# --- money ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("currency", "amount"),
    [("EUR", -1), ("eur", 100), ("EURO", 100), ("", 100), ("EUR", 1.5), ("EUR", True), ("EUR", 10**13)],
)
def test_malformed_or_negative_money_is_refused(currency: str, amount: object) -> None:
    with pytest.raises(errors.InvalidArgument):
        Money(currency, amount)  # type: ignore[arg-type]


def test_money_of_different_currencies_never_mixes() -> None:
    with pytest.raises(CurrencyMismatch):
        _ = Money("EUR", 100) + Money("USD", 100)
    with pytest.raises(CurrencyMismatch):
        Money("EUR", 100).matches(Money("USD", 100))
    assert Money("EUR", 100) + Money("EUR", 1) == Money("EUR", 101)


def test_tax_rounds_half_up_in_minor_units() -> None:
    assert Money("EUR", 4999).tax(2000) == Money("EUR", 1000)  # 999.8 -> 1000
    assert Money("EUR", 1).tax(2000) == Money("EUR", 0)
    assert Money("EUR", 3).tax(5000) == Money("EUR", 2)  # 1.5 -> 2


def test_invoice_totals_come_from_lines() -> None:
    lines = (InvoiceLine("pack", "p", 2, Money("EUR", 1000)),)
    invoice = paid_invoice(id="i", page=ACME, number=invoice_number(2026, 7), lines=lines, tax_rate_bps=2000, now=NOW)
    assert invoice.number == "DI-2026-000007"
    assert (invoice.subtotal, invoice.tax, invoice.total) == (Money("EUR", 2000), Money("EUR", 400), Money("EUR", 2400))
    assert invoice.refunded().state is InvoiceState.REFUNDED
    with pytest.raises(errors.FailedPrecondition):
        invoice.refunded().refunded()
    two = (*lines, InvoiceLine("setup", "s", 1, Money("EUR", 500)))
    assert paid_invoice(id="i", page=ACME, number="n", lines=two, tax_rate_bps=0, now=NOW).total == Money("EUR", 2500)
    with pytest.raises(ValueError, match="at least one line"):
        paid_invoice(id="i", page=ACME, number="n", lines=(), tax_rate_bps=0, now=NOW)


# --- plans ---------------------------------------------------------------------------------
def test_intervals_clamp_to_month_ends() -> None:
    assert add_interval(NOW, Interval.MONTH) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert add_interval(NOW, Interval.YEAR) == datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert add_interval(datetime(2026, 12, 15, tzinfo=UTC), Interval.MONTH) == datetime(2027, 1, 15, tzinfo=UTC)
    with pytest.raises(ValueError, match="credit packs"):
        add_interval(NOW, Interval.NONE)


# --- subscriptions -------------------------------------------------------------------------
def _subscription(state: SubscriptionState, **changes: object) -> Subscription:
    values: dict[str, object] = {
        "id": "s",
        "page": ACME,
        "plan_id": "isv-pro-monthly",
        "state": state,
        "price": Money("EUR", 9900),
        "current_period_start": NOW - timedelta(days=30),
        "current_period_end": NOW,
        "created_at": NOW - timedelta(days=30),
        "updated_at": NOW - timedelta(days=30),
    }
    values.update(changes)
    return Subscription(**values)  # type: ignore[arg-type]


LIVE = [SubscriptionState.TRIALING, SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE]
FINAL = [SubscriptionState.CANCELED, SubscriptionState.EXPIRED]


@pytest.mark.parametrize("state", LIVE)
def test_a_paid_period_makes_any_live_subscription_active(state: SubscriptionState) -> None:
    renewed = _subscription(state).renewed(NOW, NOW + timedelta(days=30), NOW)
    assert renewed.state is SubscriptionState.ACTIVE and renewed.current_period_end == NOW + timedelta(days=30)


@pytest.mark.parametrize("state", FINAL)
def test_final_states_refuse_every_transition(state: SubscriptionState) -> None:
    subscription = _subscription(state)
    transitions: list[Callable[[], Subscription]] = [
        lambda: subscription.renewed(NOW, NOW + timedelta(days=1), NOW),
        lambda: subscription.payment_failed(NOW),
        lambda: subscription.canceled(NOW, immediately=True),
        lambda: subscription.canceled(NOW, immediately=False),
        lambda: subscription.expired(NOW),
    ]
    for transition in transitions:
        with pytest.raises(errors.FailedPrecondition):
            transition()
    assert subscription.period_end_due(NOW + timedelta(days=99), timedelta(days=7)) is None


def test_cancel_now_or_at_period_end() -> None:
    active = _subscription(SubscriptionState.ACTIVE, current_period_end=NOW + timedelta(days=3))
    now = active.canceled(NOW, immediately=True, reason="too expensive")
    assert now.state is SubscriptionState.CANCELED and now.end_time == NOW and now.cancel_reason == "too expensive"
    later = active.canceled(NOW, immediately=False)
    assert later.state is SubscriptionState.ACTIVE and later.cancel_at_period_end
    with pytest.raises(errors.FailedPrecondition):
        later.canceled(NOW, immediately=False)  # already ending with its period
    assert later.period_end_due(NOW, timedelta(days=7)) is None  # period not over yet
    ended = later.period_end_due(NOW + timedelta(days=3), timedelta(days=7))
    assert ended is not None and ended.state is SubscriptionState.EXPIRED


def test_the_period_end_job_walks_unpaid_subscriptions_to_expiry() -> None:
    grace = timedelta(days=7)
    active = _subscription(SubscriptionState.ACTIVE)
    past_due = active.period_end_due(NOW, grace)
    assert past_due is not None and past_due.state is SubscriptionState.PAST_DUE
    assert past_due.period_end_due(NOW + timedelta(days=6), grace) is None  # still in grace
    expired = past_due.period_end_due(NOW + grace, grace)
    assert expired is not None and expired.state is SubscriptionState.EXPIRED
    trialing = _subscription(SubscriptionState.TRIALING).period_end_due(NOW, grace)
    assert trialing is not None and trialing.state is SubscriptionState.PAST_DUE


def test_a_renewal_needs_a_period_that_ends_after_it_starts() -> None:
    with pytest.raises(errors.InvalidArgument):
        _subscription(SubscriptionState.ACTIVE).renewed(NOW, NOW, NOW)


# --- checkouts -----------------------------------------------------------------------------
def test_a_checkout_closes_once() -> None:
    open_ = Checkout("c", ACME, "p", "https://a/s", "", Money("EUR", 1), "users/u", NOW, NOW + timedelta(hours=1))
    assert open_.completed(NOW, "i", "s").state is CheckoutState.COMPLETED
    assert open_.failed(NOW, "declined").failure_reason == "declined"
    assert open_.expired(NOW).close_time == NOW
    for closed in (open_.completed(NOW, "i"), open_.failed(NOW, "declined"), open_.expired(NOW)):
        with pytest.raises(errors.FailedPrecondition):
            closed.completed(NOW, "i")
        with pytest.raises(errors.FailedPrecondition):
            closed.failed(NOW, "x")
        with pytest.raises(errors.FailedPrecondition):
            closed.expired(NOW)


def test_return_urls_must_be_on_an_allowed_origin_and_the_error_names_them() -> None:
    origins = ReturnOrigins.from_config(["http://localhost:3000/", "https://App.DevInsider.com", " "])
    assert origins.allowed == ("http://localhost:3000", "https://app.devinsider.com")
    fine = errors.Violations()
    origins.check(fine, "checkout.success_url", "https://app.devinsider.com/billing/done", required=True)
    origins.check(fine, "checkout.cancel_url", "", required=False)
    assert fine.items == []
    refused = errors.Violations()
    origins.check(refused, "checkout.success_url", "https://evil.example/ok", required=True)
    origins.check(refused, "checkout.cancel_url", "http://localhost:3001/back", required=False)
    allowed = "(ALLOWED_RETURN_ORIGINS: http://localhost:3000, https://app.devinsider.com)"
    assert [(v.field, v.description) for v in refused.items] == [
        ("checkout.success_url", f"https://evil.example is not an allowed return origin {allowed}"),
        ("checkout.cancel_url", f"http://localhost:3001 is not an allowed return origin {allowed}"),
    ]
    malformed = errors.Violations()
    origins.check(malformed, "checkout.success_url", "ftp://app.devinsider.com/x", required=True)
    assert [v.description for v in malformed.items] == ["must be an http(s) URL"]  # one violation, not two


# --- ledger --------------------------------------------------------------------------------
def test_entries_carry_signed_credits_and_refuse_bad_amounts() -> None:
    assert signed_credits(LedgerEntryKind.GRANT, 5) == 5
    assert signed_credits(LedgerEntryKind.REFUND, 5) == 5
    assert signed_credits(LedgerEntryKind.SPEND, 5) == -5
    assert signed_credits(LedgerEntryKind.EXPIRE, 5) == -5
    for bad in (0, -3, 10**7, True, 2.5):
        with pytest.raises(errors.InvalidArgument):
            signed_credits(LedgerEntryKind.GRANT, bad)  # type: ignore[arg-type]


def test_the_balance_never_goes_negative() -> None:
    assert apply(3, -3) == 0
    with pytest.raises(InsufficientCredits) as error:
        apply(2, -3)
    assert error.value.reason == "INSUFFICIENT_CREDITS"


def test_spending_uses_the_credits_expiring_first_and_skips_expired_ones() -> None:
    lots = [
        Lot("never", 5, None),
        Lot("soon", 2, NOW + timedelta(days=1)),
        Lot("later", 2, NOW + timedelta(days=9)),
        Lot("gone", 9, NOW - timedelta(days=1)),
    ]
    changed = consume(lots, 5, NOW)
    assert changed == [Lot("soon", 0, lots[1].expire_time), Lot("later", 0, lots[2].expire_time), Lot("never", 4, None)]
    with pytest.raises(InsufficientCredits):
        consume(lots, 10, NOW)


# --- unlocks -------------------------------------------------------------------------------
def test_unlock_prices_come_from_configuration() -> None:
    prices = UnlockPrices.from_config({"program:company": 3, "company:investor": 1})
    assert prices.cost(PageName(PageKind.PROGRAM, "p"), ACME) == 3
    with pytest.raises(errors.FailedPrecondition) as error:
        prices.cost(ACME, PageName(PageKind.PROGRAM, "p"))
    assert error.value.reason == "UNLOCK_NOT_OFFERED"
    with pytest.raises(errors.FailedPrecondition) as error:
        prices.cost(ACME, ACME)
    assert error.value.reason == "OWN_PAGE"
    for bad in ({"company": 1}, {"company:investor": 0}, {"company:investor": -2}):
        with pytest.raises(ValueError, match="unlock cost"):
            UnlockPrices.from_config(bad)


def test_only_pages_that_exist_and_are_active_may_be_unlocked() -> None:
    require_unlockable(ACME, TargetState.ACTIVE)
    with pytest.raises(errors.NotFound) as missing:
        require_unlockable(ACME, None)
    assert (missing.value.reason, missing.value.metadata) == ("UNLOCK_TARGET_NOT_FOUND", {"target": ACME.name})
    with pytest.raises(errors.FailedPrecondition) as inactive:
        require_unlockable(ACME, TargetState.INACTIVE)
    assert inactive.value.reason == "UNLOCK_TARGET_INACTIVE"


# --- webhook signatures --------------------------------------------------------------------
SECRET = "s3cret"
BODY = json.dumps({"id": "evt_1", "type": "checkout.completed", "created": 1, "data": {}}).encode()


def test_a_good_signature_within_the_window_passes() -> None:
    stamp = int(NOW.timestamp())
    payment_events.verify(BODY, payment_events.signature_header(BODY, SECRET, stamp), SECRET, NOW, 300)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "SIGNATURE_MISSING"),
        ("", "SIGNATURE_MISSING"),
        ("v1=abc", "SIGNATURE_MALFORMED"),
        ("t=notanumber,v1=abc", "SIGNATURE_MALFORMED"),
        (f"t={int(NOW.timestamp())},v1=deadbeef", "SIGNATURE_MISMATCH"),
        (payment_events.signature_header(BODY, "other-secret", int(NOW.timestamp())), "SIGNATURE_MISMATCH"),
        (payment_events.signature_header(BODY + b" ", SECRET, int(NOW.timestamp())), "SIGNATURE_MISMATCH"),
        (payment_events.signature_header(BODY, SECRET, int(NOW.timestamp()) - 301), "SIGNATURE_STALE"),
        (payment_events.signature_header(BODY, SECRET, int(NOW.timestamp()) + 301), "SIGNATURE_STALE"),
    ],
)
def test_bad_or_stale_signatures_are_refused(header: str | None, reason: str) -> None:
    with pytest.raises(errors.Unauthenticated) as error:
        payment_events.verify(BODY, header, SECRET, NOW, 300)
    assert error.value.reason == reason


def test_a_signature_made_for_another_timestamp_does_not_pass() -> None:
    stamp = int(NOW.timestamp())
    signed = payment_events.signature_header(BODY, SECRET, stamp - 1000)  # old, captured
    forged = f"t={stamp}," + signed.split(",", 1)[1]  # fresh timestamp, old signature
    with pytest.raises(errors.Unauthenticated):
        payment_events.verify(BODY, forged, SECRET, NOW, 300)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[]", "body"),
        (b'{"id": "", "type": "checkout.completed", "created": 1, "data": {}}', "body.id"),
        (b'{"id": "e", "type": "bogus", "created": 1, "data": {}}', "body.type"),
        (b'{"id": "e", "type": "checkout.completed", "created": "x", "data": {}}', "body.created"),
        (b'{"id": "e", "type": "checkout.completed", "created": 1, "data": []}', "body.data"),
    ],
)
def test_malformed_event_bodies_name_the_field(body: bytes, field: str) -> None:
    with pytest.raises(errors.InvalidArgument) as error:
        payment_events.parse(body)
    assert field in [v.field for v in error.value.violations]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": -5, "currency": "EUR"}, "body.data.amount"),
        ({"amount": "5", "currency": "EUR"}, "body.data.amount"),
        ({"amount": 1.5, "currency": "EUR"}, "body.data.amount"),
        ({"amount": 5, "currency": "euro"}, "body.data.currency"),
        ({"amount": 5}, "body.data.currency"),
    ],
)
def test_malformed_event_amounts_are_refused(data: dict[str, object], field: str) -> None:
    event = payment_events.PaymentEvent("e", payment_events.EventType.CHECKOUT_COMPLETED, NOW, data)
    with pytest.raises(errors.InvalidArgument) as error:
        event.money()
    assert error.value.violations[0].field == field

"""Billing's events as outbox rows, written in the unit of work's transaction: exchange, routing key,
type, external id and payload of each, receipts and failures mailed only to a known address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from billing_service.bootstrap import MIGRATIONS
from billing_service.domain.entitlements import Entitlements, PageEntitlements
from billing_service.domain.invoices import InvoiceLine, paid_invoice
from billing_service.domain.ledger import LedgerEntry, LedgerEntryKind
from billing_service.domain.money import Money
from billing_service.domain.subscriptions import Subscription, SubscriptionState
from billing_service.domain.unlocks import Unlock
from billing_service.service_layer.unit_of_work import SqlBillingUnitOfWork
from devinsider.billing.v1 import billing_pb2, events_pb2
from devinsider.common.v1 import mail_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.testing.fixtures import migrated_engine

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
ACME = PageName(PageKind.COMPANY, "acme")
BILLING_KEY = topology.direct_routing_key(topology.BILLING)
MAIL_KEY = topology.direct_routing_key(topology.MAIL)


@pytest.fixture
def engine(database: tuple[str, str]) -> Iterator[Engine]:
    with migrated_engine(database, MIGRATIONS) as migrated:
        yield migrated


def outbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [
            dict(row) for row in connection.execute(select(outbox_messages).order_by(outbox_messages.c.id)).mappings()
        ]


def test_each_event_goes_to_its_exchange_with_its_payload(engine: Engine) -> None:
    invoice = paid_invoice(
        id="i1",
        page=ACME,
        number="DI-2026-000001",
        lines=(InvoiceLine("pack", "isv-credits-10", 1, Money("EUR", 5000)),),
        tax_rate_bps=0,
        now=NOW,
        checkout_id="c1",
    )
    entry = LedgerEntry("e1", ACME, LedgerEntryKind.GRANT, 10, 10, "pack", "r", "kc", NOW)
    subscription = Subscription(
        "s1",
        ACME,
        "isv-pro-monthly",
        SubscriptionState.PAST_DUE,
        Money("EUR", 9900),
        NOW,
        NOW + timedelta(days=30),
        NOW,
        NOW,
    )
    unlock = Unlock("u1", ACME, PageName(PageKind.INVESTOR, "vc"), 1, "e2", "kc", NOW, "r1")
    with SqlBillingUnitOfWork(engine) as uow:
        uow.events.payment_succeeded(invoice, "owner@acme.io")
        uow.events.payment_failed(ACME, "", subscription.name, "card expired", "")  # no address: no mail
        uow.events.credits_granted(entry)
        uow.events.subscription_changed(subscription, SubscriptionState.ACTIVE)
        uow.events.subscription_changed(subscription, None)
        uow.events.unlock_created(unlock, 9)
        assert outbox(engine) == []  # not before the commit
        uow.commit()
    rows = outbox(engine)
    assert [(r["exchange"], r["routing_key"], r["event_type"]) for r in rows] == [
        (topology.BILLING, BILLING_KEY, "devinsider.billing.v1.PaymentSucceeded"),
        (topology.MAIL, MAIL_KEY, "devinsider.common.v1.MailRequested"),
        (topology.BILLING, BILLING_KEY, "devinsider.billing.v1.PaymentFailed"),
        (topology.BILLING, BILLING_KEY, "devinsider.billing.v1.CreditsGranted"),
        (topology.BILLING, BILLING_KEY, "devinsider.billing.v1.SubscriptionChanged"),
        (topology.BILLING, BILLING_KEY, "devinsider.billing.v1.SubscriptionChanged"),
        (topology.UNLOCK, "unlock.created", "devinsider.billing.v1.UnlockCreated"),
    ]
    envelopes = [from_json(r["body"]) for r in rows]
    assert [e.external_id for e in envelopes] == [
        invoice.name,
        "mail:billing_receipt:owner@acme.io",
        subscription.name,
        entry.name,
        subscription.name,
        subscription.name,
        unlock.name,
    ]
    assert all(e.source == "billing" for e in envelopes)
    paid = unpack_payload(envelopes[0], events_pb2.PaymentSucceeded)
    assert (paid.page.name, paid.amount.amount_minor, paid.checkout, paid.subscription) == (
        ACME.name,
        5000,
        f"{ACME.name}/checkouts/c1",
        "",
    )
    receipt = unpack_payload(envelopes[1], mail_pb2.MailRequested)
    assert (receipt.template, receipt.to_email, dict(receipt.variables)) == (
        "billing_receipt",
        "owner@acme.io",
        {"number": "DI-2026-000001", "total": "50.00 EUR"},
    )
    failed = unpack_payload(envelopes[2], events_pb2.PaymentFailed)
    assert (failed.subscription, failed.checkout, failed.failure_reason) == (subscription.name, "", "card expired")
    assert unpack_payload(envelopes[3], events_pb2.CreditsGranted).balance == 10
    changed = unpack_payload(envelopes[4], events_pb2.SubscriptionChanged)
    assert (changed.previous_state, changed.subscription.state) == (
        billing_pb2.SUBSCRIPTION_STATE_ACTIVE,
        billing_pb2.SUBSCRIPTION_STATE_PAST_DUE,
    )
    assert unpack_payload(envelopes[5], events_pb2.SubscriptionChanged).previous_state == 0
    unlocked = unpack_payload(envelopes[6], events_pb2.UnlockCreated)
    assert (unlocked.unlocker.name, unlocked.unlock.target.name, unlocked.balance) == (ACME.name, "investors/vc", 9)


def test_entitlements_changed_carries_the_new_entitlements_and_the_previous_plan(engine: Engine) -> None:
    ends = NOW + timedelta(days=30)
    paid = PageEntitlements(ACME, Entitlements(25, 0, True, 100, 20), "isv-pro-monthly", "s1", ends, "isv-basic")
    with SqlBillingUnitOfWork(engine) as uow:
        uow.events.entitlements_changed(paid, "isv-starter-monthly")
        uow.events.entitlements_changed(PageEntitlements(ACME, Entitlements(0, 10, False, 5, 3)), "isv-pro-monthly")
        uow.commit()
    rows = outbox(engine)
    assert [(r["exchange"], r["routing_key"], r["event_type"]) for r in rows] == [
        (topology.BILLING, BILLING_KEY, "devinsider.billing.v1.EntitlementsChanged")
    ] * 2
    envelopes = [from_json(r["body"]) for r in rows]
    assert [e.external_id for e in envelopes] == [f"{ACME.name}/entitlements"] * 2
    upgraded, ended = (unpack_payload(e, events_pb2.EntitlementsChanged) for e in envelopes)
    assert (upgraded.page.name, upgraded.previous_plan) == (ACME.name, "plans/isv-starter-monthly")
    assert upgraded.entitlements == billing_pb2.PageEntitlements(
        name=f"{ACME.name}/entitlements",
        entitlements=billing_pb2.Entitlements(
            monthly_credits=25, directory_filters=True, contact_requests_per_month=100, seats=20
        ),
        plan="plans/isv-pro-monthly",
        subscription=f"{ACME.name}/subscriptions/s1",
        period_end_time=upgraded.entitlements.period_end_time,
        scheduled_plan="plans/isv-basic",
    )
    assert upgraded.entitlements.period_end_time.ToDatetime(tzinfo=UTC) == ends
    assert ended.entitlements.free_tier and not ended.entitlements.plan and not ended.entitlements.subscription
    assert not ended.entitlements.HasField("period_end_time") and ended.entitlements.entitlements.seats == 3


def test_events_of_a_transaction_left_without_commit_are_dropped(engine: Engine) -> None:
    with SqlBillingUnitOfWork(engine) as uow:
        uow.events.payment_failed(ACME, "c", "", "declined", "owner@acme.io")
    assert outbox(engine) == []

"""Billing's events reach RabbitMQ through the outbox: devinsider_billing.exchange.direct for
payments, credits and subscriptions, unlock.exchange.fanout for unlocks, mail for receipts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pika
import pytest

from billing_service.bootstrap import BillingService, start
from devinsider.billing.v1 import billing_pb2_grpc, events_pb2
from devinsider.common.v1 import mail_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.pages.roles import PageRole
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import Received, bind_test_queue, drain
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.neighbours import Neighbours
from devinsider_common.testing.tokens import TokenFactory

from ..conftest import make_settings
from ..helpers import checkout, pay, unlock

ACME = "companies/acme"


@pytest.fixture
def relayed(
    tmp_path: Path, pg_schema: tuple[str, str], amqp_url: str, neighbours: Neighbours
) -> Iterator[BillingService]:
    broker = BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05)
    service = start(make_settings(tmp_path, *pg_schema, neighbours.target, broker=broker), clock=FakeClock())
    yield service
    service.stop(grace=0)


def _collect(channel: object, queue: str, count: int) -> list[Received]:
    messages: list[Received] = []
    deadline = time.monotonic() + 20
    while len(messages) < count and time.monotonic() < deadline:
        messages += drain(channel, queue)
        time.sleep(0.05)
    return messages


@pytest.mark.slow
def test_payments_credits_subscriptions_and_unlocks_are_published(
    relayed: BillingService, amqp_url: str, neighbours: Neighbours, tokens: TokenFactory
) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    topology.declare_topology(channel)
    billing_queue = bind_test_queue(channel, topology.BILLING, topology.direct_routing_key(topology.BILLING))
    unlock_queue = bind_test_queue(channel, topology.UNLOCK, "")
    mail_queue = bind_test_queue(channel, topology.MAIL, topology.direct_routing_key(topology.MAIL))
    neighbours.add_member(ACME, "kc-owner", PageRole.OWNER)
    owner = tokens("kc-owner", email="owner@acme.io")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{relayed.port}") as grpc_channel:
            stub = billing_pb2_grpc.BillingServiceStub(grpc_channel)
            pack = checkout(stub, owner, ACME, "plans/isv-credits-10")
            pay(pack.checkout_url)
            plan = checkout(stub, owner, ACME, "plans/isv-pro-monthly")
            pay(plan.checkout_url)
            done = unlock(stub, owner, "investors/vc", "u1", parent=ACME)

        billing = _collect(channel, billing_queue, 6)
        types = sorted(m.properties.type for m in billing)
        assert types == sorted(
            [
                "devinsider.billing.v1.CreditsGranted",
                "devinsider.billing.v1.PaymentSucceeded",
                "devinsider.billing.v1.SubscriptionChanged",
                "devinsider.billing.v1.EntitlementsChanged",
                "devinsider.billing.v1.CreditsGranted",
                "devinsider.billing.v1.PaymentSucceeded",
            ]
        )
        for message in billing:
            assert message.properties.delivery_mode == 2
            envelope = from_json(message.body)
            assert envelope.source == "billing" and envelope.event_id == message.properties.message_id
        payments = [
            unpack_payload(from_json(m.body), events_pb2.PaymentSucceeded)
            for m in billing
            if m.properties.type.endswith("PaymentSucceeded")
        ]
        assert sorted(p.amount.amount_minor for p in payments) == [5000, 9900]
        assert all(p.page.name == ACME and p.invoice.number.startswith("DI-") for p in payments)
        changed = [
            unpack_payload(from_json(m.body), events_pb2.SubscriptionChanged)
            for m in billing
            if m.properties.type.endswith("SubscriptionChanged")
        ]
        assert changed[0].previous_state == 0 and changed[0].subscription.plan == "plans/isv-pro-monthly"
        [entitled] = [
            (from_json(m.body), unpack_payload(from_json(m.body), events_pb2.EntitlementsChanged))
            for m in billing
            if m.properties.type.endswith("EntitlementsChanged")
        ]
        assert entitled[0].external_id == f"{ACME}/entitlements"
        assert (entitled[1].entitlements.plan, entitled[1].previous_plan) == ("plans/isv-pro-monthly", "")
        assert entitled[1].entitlements.entitlements.match_results_visible == 0  # every match
        assert entitled[1].entitlements.entitlements.monthly_credits == 25 and not entitled[1].entitlements.free_tier
        granted = sorted(
            unpack_payload(from_json(m.body), events_pb2.CreditsGranted).balance
            for m in billing
            if m.properties.type.endswith("CreditsGranted")
        )
        assert granted == [10, 35]

        [unlocked] = _collect(channel, unlock_queue, 1)
        assert unlocked.properties.type == "devinsider.billing.v1.UnlockCreated"
        envelope = from_json(unlocked.body)
        event = unpack_payload(envelope, events_pb2.UnlockCreated)
        assert envelope.external_id == done.name
        assert (event.unlocker.name, event.unlock.target.name, event.balance) == (ACME, "investors/vc", 34)

        receipts = [unpack_payload(from_json(m.body), mail_pb2.MailRequested) for m in _collect(channel, mail_queue, 2)]
        assert [(r.template, r.to_email) for r in receipts] == [("billing_receipt", "owner@acme.io")] * 2
        assert relayed.settings.broker.amqp_url and drain(channel, billing_queue) == []  # each once
    finally:
        connection.close()

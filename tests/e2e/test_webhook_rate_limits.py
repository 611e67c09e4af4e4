"""The webhooks' rate limits under a flood, through the edge to the real services.

An anonymous flood of `POST /v1/webhooks/payments` from one address (127.0.0.3, claiming in
X-Forwarded-For to be the provider's) while the payment provider delivers correctly signed
`checkout.completed` events from its own address (127.0.0.2), and Keycloak sends its events, here
even from the flooding address. The edge keeps one bucket per webhook and per client address (the
TCP peer, never X-Forwarded-For): the flood gets 429, every delivery of the provider is applied
(the credits are granted), Keycloak's events are all received. Before, one bucket shared by both
webhooks and every client let the flood starve them all.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from devinsider_gateway.testing.http import request

from .journeys import CREDIT_PACK, balance, investor_page, keycloak_register, ok, payment_webhook
from .suite_stack import SuiteStack, unique

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq, pytest.mark.slow]

FLOOD_SOURCE, PROVIDER_SOURCE = "127.0.0.3", "127.0.0.2"
DELIVERIES = 12
FLOOD_THREADS = 3
CREDITS_PER_PACK = 10


class Flood:
    """Unsigned junk posted to the payment webhook from FLOOD_SOURCE by a few threads, until stopped."""

    def __init__(self, stack: SuiteStack) -> None:
        self.statuses: list[int] = []
        self._url = stack.url("/v1/webhooks/payments")
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(FLOOD_THREADS)]

    def _run(self) -> None:
        headers = {"content-type": "application/json", "x-forwarded-for": PROVIDER_SOURCE}
        while not self._stop.is_set():
            self.statuses.append(request("POST", self._url, b"{}", headers, source=FLOOD_SOURCE).status)

    def __enter__(self) -> Flood:
        for thread in self._threads:
            thread.start()
        deadline = time.monotonic() + 20
        while 429 not in self.statuses:  # the flooding address's bucket is empty: the flood is on
            assert time.monotonic() < deadline, f"no 429 for the flood: {self.statuses[-20:]}"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def test_a_payment_webhook_flood_starves_neither_the_provider_nor_keycloak(suite_stack: SuiteStack) -> None:
    investor = investor_page(suite_stack, with_profile=False)
    order = {"plan": CREDIT_PACK, "successUrl": "http://localhost:3000/billing/done"}
    checkouts = [
        ok(suite_stack.call("POST", f"/v1/{investor.name}/checkouts", order, investor.owner)) for _ in range(DELIVERIES)
    ]
    deliveries, keycloak = [], []
    with Flood(suite_stack) as flood:
        for checkout in checkouts:
            paid = {"checkout": checkout["providerReference"], "payment": f"pay_{uuid.uuid4().hex}", "amount": 7500}
            delivered = payment_webhook(
                suite_stack, "checkout.completed", paid | {"currency": "EUR"}, source=PROVIDER_SOURCE
            )
            deliveries.append((delivered.status, delivered.body[:200]))
            subject = unique("kc-flooded")
            registered = keycloak_register(
                suite_stack, subject, f"{subject}@example.com", "Flo", "Oded", source=FLOOD_SOURCE
            )
            keycloak.append((registered.status, registered.body[:200]))
    assert [status for status, _ in deliveries] == [200] * DELIVERIES, deliveries
    assert [status for status, _ in keycloak] == [200] * DELIVERIES, keycloak
    assert flood.statuses.count(429) > len(flood.statuses) // 2, flood.statuses[-20:]
    assert set(flood.statuses) <= {401, 429}  # what passed its bucket is refused by billing: not signed
    assert balance(suite_stack, investor.name, investor.owner) == DELIVERIES * CREDITS_PER_PACK

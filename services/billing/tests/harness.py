"""Billing's use cases as `bootstrap.build_app` wires them, on the in-memory unit of work and fake
ports (tests/fakes.py), with what a test does around them: act as a page's members, as staff, and
as the payment provider (signed webhook events)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from billing_service.bootstrap import build_app
from billing_service.domain.checkouts import Checkout
from billing_service.domain.ledger import LedgerEntry, LedgerEntryKind
from billing_service.domain.payment_events import signature_header
from billing_service.domain.unlocks import Unlock
from billing_service.service_layer.app import BillingApp
from billing_service.service_layer.ports import PaymentProvider
from billing_service.settings import BillingSettings
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.memory import MemoryStore
from devinsider_common.testing.neighbours import FakeBlockList, FakePageAccess
from devinsider_common.testing.tokens import principal

from .fakes import (
    FakeBillingUnitOfWork,
    FakePageStates,
    FakeProvider,
    Published,
    published,
    seeded_store,
)

SECRET = "test-payment-secret"
ORIGIN = "https://app.example.com"
ACME = PageName(PageKind.COMPANY, "acme")
PROGRAM = PageName(PageKind.PROGRAM, "p1")
ISV = PageName(PageKind.COMPANY, "isv-1")
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
STAFF = principal("kc-staff", roles=("admin",))
SERVICE = principal("service-crm", roles=("service",))


def settings(**overrides: Any) -> BillingSettings:
    values: dict[str, Any] = {
        "payment_webhook_secret": SECRET,
        "allowed_return_origins": [ORIGIN],
        "user_target": "",
    }
    return BillingSettings(**(values | overrides))


class StaleReadUnitOfWork(FakeBillingUnitOfWork):
    """A unit of work that read before a concurrent twin committed: each `(store, method)` in
    `unseen` finds nothing (the race a test cannot otherwise stage without threads)."""

    def __init__(self, store: MemoryStore, unseen: set[tuple[str, str]], read_only: bool = False) -> None:
        super().__init__(store, read_only)
        self._unseen = unseen

    def _open_repositories(self) -> None:
        super()._open_repositories()
        for repository, method in self._unseen:
            setattr(getattr(self, repository), method, lambda *args, **kwargs: None)


@dataclass
class Billing:
    """The app on fakes, and what a test does around it."""

    store: MemoryStore
    clock: FakeClock
    settings: BillingSettings
    access: FakePageAccess = field(default_factory=FakePageAccess)
    blocks: FakeBlockList = field(default_factory=FakeBlockList)
    states: FakePageStates = field(default_factory=FakePageStates)
    provider: FakeProvider = field(default_factory=FakeProvider)
    gateway: PaymentProvider | None = None  # the provider the app talks to, when not the fake
    # The next units of work, in order: each reads nothing through the listed (store, method)s.
    stale_reads: list[set[tuple[str, str]]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        provider = self.gateway or self.provider
        self.app: BillingApp = build_app(
            self.settings, self.unit_of_work, self.clock, self.access, self.blocks, self.states, provider
        )

    def unit_of_work(self, read_only: bool = False) -> FakeBillingUnitOfWork:
        if self.stale_reads:
            return StaleReadUnitOfWork(self.store, self.stale_reads.pop(0), read_only)
        return FakeBillingUnitOfWork(self.store, read_only)

    def member(self, page: PageName, subject: str, role: PageRole = PageRole.OWNER, **claims: Any) -> Principal:
        self.access.add_member(page, subject, role)
        return principal(subject, **claims)

    def grant(self, page: PageName, credits: int, expire_time: datetime | None = None) -> LedgerEntry:
        request_id = f"grant-{next(self._ids)}"
        return self.app.ledger.create(STAFF, page, LedgerEntryKind.GRANT, credits, "", expire_time, request_id)

    def balance(self, page: PageName) -> int:
        return self.app.ledger.balance(STAFF, page).balance

    def entries(self, page: PageName) -> list[tuple[LedgerEntryKind, int, int]]:
        """(kind, credits, balance after) of the page's entries, oldest first."""
        found, _ = self.app.ledger.list_ledger_entries(STAFF, page, 200, "", None)
        return [(e.kind, e.credits, e.balance_after) for e in reversed(found)]

    def unlock(self, spender: Principal, target: PageName, request_id: str, page: PageName = PROGRAM) -> Unlock:
        return self.app.unlocks.create(spender, page, target, request_id)

    def checkout(self, buyer: Principal, page: PageName, plan_id: str, request_id: str = "") -> Checkout:
        return self.app.checkouts.create(buyer, page, plan_id, f"{ORIGIN}/done", "", request_id)

    # --- the provider's side ------------------------------------------------------------------
    def send(self, event_type: str, data: dict[str, Any], event_id: str = "", age: int = 0) -> bool:
        """Deliver a signed event, as the provider does (`age`: seconds since it was signed)."""
        body, header = self.signed(event_type, data, event_id, age)
        return self.app.payments.receive(body, header)

    def signed(self, event_type: str, data: dict[str, Any], event_id: str = "", age: int = 0) -> tuple[bytes, str]:
        event = {"id": event_id or f"evt_{next(self._ids)}", "type": event_type, "created": 1, "data": data}
        body = json.dumps(event).encode()
        return body, signature_header(body, SECRET, int(self.clock().timestamp()) - age)

    def pay(
        self, checkout: Checkout, amount: int | None = None, currency: str = "EUR", event_id: str = "", **data: Any
    ) -> bool:
        """The provider confirms the checkout's payment (of its amount, unless told otherwise)."""
        values = {
            "checkout": checkout.provider_reference,
            "payment": f"pay_{checkout.id}",
            "subscription": f"sub_{checkout.id}",
            "amount": checkout.amount.amount_minor if amount is None else amount,
            "currency": currency,
        }
        return self.send("checkout.completed", values | data, event_id)

    def published(self, kind: str | None = None) -> list[Published]:
        return published(self.store, kind)


def new_billing(
    store: MemoryStore | None = None,
    clock: FakeClock | None = None,
    gateway: PaymentProvider | None = None,
    **overrides: Any,
) -> Billing:
    """The app on a fresh seeded store, with the test settings (and `overrides`)."""
    return Billing(store or seeded_store(), clock or FakeClock(NOW), settings(**overrides), gateway=gateway)

"""In-memory doubles of billing's unit of work and of its ports (cosmicpython's fakes).

`FakeBillingUnitOfWork` honours `ports.BillingUnitOfWork` on a `MemoryStore`: each store keeps
frozen domain objects in the unit of work's copy of the tables, so a commit publishes the writes
and leaving without one drops them, and the keys and checks of the SQL schema raise
`DuplicateRecord` / `ConstraintViolation` as the SQL unit of work does. The events the use cases
publish go to an "outbox" table in the same transaction (`published(store)` reads them back).
`tests/adapters/test_repositories.py` runs the same contract on this fake and on the SQL unit of
work (PostgreSQL and SQLite): the fake stays honest.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from billing_service.domain.checkouts import Checkout, CheckoutState
from billing_service.domain.entitlements import PageEntitlements
from billing_service.domain.invoices import Invoice, InvoiceState
from billing_service.domain.ledger import Balance, LedgerEntry, LedgerEntryKind, Lot
from billing_service.domain.money import Money
from billing_service.domain.plan_changes import PlanChange
from billing_service.domain.plans import Interval, Plan, PlanKind, plan_position
from billing_service.domain.subscriptions import LIVE_STATES, Subscription, SubscriptionState, subscription_position
from billing_service.domain.unlocks import TargetState, Unlock
from billing_service.service_layer.ports import CheckoutRequest, ProviderCharge, ProviderCheckout, SubscriptionChange
from devinsider_common import errors
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.memory import MemoryStore, MemoryUnitOfWork, insert_unique, window_of
from devinsider_common.unit_of_work import ConstraintViolation, DuplicateRecord

COMPANY, INVESTOR, PROGRAM = PageKind.COMPANY, PageKind.INVESTOR, PageKind.PROGRAM
SUBSCRIPTION, PACK = PlanKind.SUBSCRIPTION, PlanKind.CREDIT_PACK
MONTH, YEAR, NONE = Interval.MONTH, Interval.YEAR, Interval.NONE


def _plan(
    plan_id: str,
    name: str,
    page_kind: PageKind,
    kind: PlanKind,
    interval: Interval,
    price: int,
    credits: int,
    trial: int,
    features: tuple[str, ...],
    entitlements: tuple[int, bool, int, int] = (0, False, 0, 0),
) -> Plan:
    """`entitlements`: (match results visible, directory filters, contact requests a month, seats)."""
    description = f"{name}: {credits} credits" + (" every period" if kind is PlanKind.SUBSCRIPTION else "")
    matches, filters, contacts, seats = entitlements
    return Plan(
        plan_id,
        name,
        description,
        page_kind,
        kind,
        interval,
        Money("EUR", price),
        credits,
        trial,
        features,
        match_results_visible=matches,
        directory_filters=filters,
        contact_requests_per_month=contacts,
        seats=seats,
    )


# The entitlements migration 0002 gives the seeded subscriptions.
STARTER, PRO, INVESTOR_PLAN, PROGRAM_PLAN = (
    (50, True, 20, 5),
    (0, True, 100, 20),
    (0, True, 100, 20),
    (0, True, 200, 50),
)


# The catalogue the first migration seeds (the adapter tests check that both are the same).
CATALOGUE = (
    _plan(
        "isv-starter-monthly",
        "ISV Starter, monthly",
        COMPANY,
        SUBSCRIPTION,
        MONTH,
        4900,
        10,
        14,
        ("10 unlocks a month",),
        STARTER,
    ),
    _plan(
        "isv-pro-monthly",
        "ISV Pro, monthly",
        COMPANY,
        SUBSCRIPTION,
        MONTH,
        9900,
        25,
        0,
        ("25 unlocks a month", "Matching"),
        PRO,
    ),
    _plan(
        "isv-pro-yearly",
        "ISV Pro, yearly",
        COMPANY,
        SUBSCRIPTION,
        YEAR,
        99000,
        300,
        0,
        ("300 unlocks a year", "Matching"),
        PRO,
    ),
    _plan(
        "investor-monthly",
        "Investor, monthly",
        INVESTOR,
        SUBSCRIPTION,
        MONTH,
        14900,
        20,
        14,
        ("20 unlocks a month",),
        INVESTOR_PLAN,
    ),
    _plan(
        "investor-yearly",
        "Investor, yearly",
        INVESTOR,
        SUBSCRIPTION,
        YEAR,
        149000,
        240,
        0,
        ("240 unlocks a year",),
        INVESTOR_PLAN,
    ),
    _plan(
        "program-monthly",
        "Partner program, monthly",
        PROGRAM,
        SUBSCRIPTION,
        MONTH,
        19900,
        30,
        0,
        ("30 unlocks a month",),
        PROGRAM_PLAN,
    ),
    _plan(
        "program-yearly",
        "Partner program, yearly",
        PROGRAM,
        SUBSCRIPTION,
        YEAR,
        199000,
        360,
        0,
        ("360 unlocks a year",),
        PROGRAM_PLAN,
    ),
    _plan("isv-credits-10", "10 credits (ISV)", COMPANY, PACK, NONE, 5000, 10, 0, ("10 unlocks, never expire",)),
    _plan("isv-credits-50", "50 credits (ISV)", COMPANY, PACK, NONE, 20000, 50, 0, ("50 unlocks, never expire",)),
    _plan("investor-credits-10", "10 credits (investor)", INVESTOR, PACK, NONE, 7500, 10, 0, ("10 unlocks",)),
    _plan("program-credits-10", "10 credits (program)", PROGRAM, PACK, NONE, 7500, 10, 0, ("10 unlocks",)),
)


def seeded_store(*extra: Plan) -> MemoryStore:
    """A store holding the seeded catalogue (and `extra` plans, e.g. an inactive one)."""
    store = MemoryStore()
    store.publish({"plans": {plan.id: plan for plan in (*CATALOGUE, *extra)}})
    return store


class MemoryPlans:
    def __init__(self, rows: dict[str, Plan]) -> None:
        self._rows = rows

    def get(self, plan_id: str) -> Plan | None:
        return self._rows.get(plan_id)

    def list_after(
        self, window: ListWindow, page_kind: PageKind | None, kind: PlanKind | None, show_inactive: bool
    ) -> list[Plan]:
        rows = [
            p
            for p in self._rows.values()
            if (page_kind is None or p.page_kind is page_kind)
            and (kind is None or p.kind is kind)
            and (show_inactive or p.active)
        ]
        return window_of(rows, window, plan_position)


class MemorySubscriptions:
    def __init__(self, rows: dict[str, Subscription]) -> None:
        self._rows = rows

    def get(self, page: PageName, subscription_id: str, lock: bool = False) -> Subscription | None:
        found = self._rows.get(subscription_id)
        return found if found is not None and found.page == page else None

    def get_by_id(self, subscription_id: str, lock: bool = False) -> Subscription | None:
        return self._rows.get(subscription_id)

    def by_provider_reference(self, reference: str, lock: bool = False) -> Subscription | None:
        if not reference:
            return None
        return next((s for s in self._rows.values() if s.provider_reference == reference), None)

    def add(self, subscription: Subscription) -> None:
        self._one_live(subscription)
        insert_unique(self._rows, subscription.id, subscription, "subscription")

    def save(self, subscription: Subscription) -> None:
        if subscription.id in self._rows:
            self._one_live(subscription)
            self._rows[subscription.id] = subscription

    def _one_live(self, subscription: Subscription) -> None:
        """At most one live subscription per page (the schema's uq_subscriptions_one_live)."""
        if subscription.state.live and any(
            s.page == subscription.page and s.state.live and s.id != subscription.id for s in self._rows.values()
        ):
            raise DuplicateRecord(f"{subscription.page.name} has a live subscription")

    def list_after(self, page: PageName, window: ListWindow, states: list[SubscriptionState]) -> list[Subscription]:
        rows = [s for s in self._rows.values() if s.page == page and (not states or s.state in states)]
        # Rank ascending, id descending: sort on (rank, reversed id order) in two stable passes.
        rows.sort(key=lambda s: s.id, reverse=True)
        rows.sort(key=lambda s: subscription_position(s)[0])
        if window.after:
            after_rank, after_id = window.after
            rows = [
                s
                for s in rows
                if subscription_position(s)[0] > after_rank
                or (subscription_position(s)[0] == after_rank and s.id < after_id)
            ]
        return rows[: window.size + 1]

    def due_ids(self, now: datetime, limit: int = 500) -> list[str]:
        due = [s for s in self._rows.values() if s.state in LIVE_STATES and s.current_period_end <= now]
        return [s.id for s in sorted(due, key=lambda s: s.current_period_end)][:limit]


class MemoryPlanChanges:
    def __init__(self, rows: dict[str, PlanChange]) -> None:
        self._rows = rows

    def add(self, change: PlanChange) -> None:
        if change.request_id is not None and self.by_request(change.page, change.request_id) is not None:
            raise DuplicateRecord(f"plan change request {change.request_id!r} of {change.page.name} exists")
        insert_unique(self._rows, change.id, change, "plan change")

    def by_request(self, page: PageName, request_id: str) -> PlanChange | None:
        return next((c for c in self._rows.values() if c.page == page and c.request_id == request_id), None)

    def of_subscription(self, subscription_id: str) -> list[PlanChange]:
        return sorted((c for c in self._rows.values() if c.subscription_id == subscription_id), key=lambda c: c.id)


class MemoryCheckouts:
    def __init__(self, rows: dict[str, Checkout]) -> None:
        self._rows = rows

    def get(self, page: PageName, checkout_id: str) -> Checkout | None:
        found = self._rows.get(checkout_id)
        return found if found is not None and found.page == page else None

    def get_by_id(self, checkout_id: str, lock: bool = False) -> Checkout | None:
        return self._rows.get(checkout_id)

    def by_request(self, page: PageName, request_id: str) -> Checkout | None:
        return next((c for c in self._rows.values() if c.page == page and c.request_id == request_id), None)

    def by_provider_reference(self, reference: str, lock: bool = False) -> Checkout | None:
        if not reference:
            return None
        return next((c for c in self._rows.values() if c.provider_reference == reference), None)

    def add(self, checkout: Checkout) -> None:
        if checkout.request_id is not None and any(
            (c.page, c.request_id) == (checkout.page, checkout.request_id) for c in self._rows.values()
        ):
            raise DuplicateRecord(f"checkout request {checkout.request_id!r} of {checkout.page.name} exists")
        insert_unique(self._rows, checkout.id, checkout, "checkout")

    def save(self, checkout: Checkout) -> None:
        if checkout.id in self._rows:
            self._rows[checkout.id] = checkout

    def expired_open_ids(self, now: datetime, limit: int = 500) -> list[str]:
        due = [c.id for c in self._rows.values() if c.state is CheckoutState.OPEN and c.expire_time <= now]
        return due[:limit]


@dataclass(frozen=True)
class StoredLot:
    page: str
    lot: Lot


class MemoryLedger:
    """Balances, entries and lots; the schema's checks (balance >= 0, credits != 0, remaining >= 0)
    and unique request ids, as the SQL tables enforce them."""

    def __init__(
        self, balances: dict[str, Balance], entries: dict[str, LedgerEntry], lots: dict[str, StoredLot]
    ) -> None:
        self._balances = balances
        self._entries = entries
        self._lots = lots

    def lock_balance(self, page: PageName, now: datetime) -> Balance:
        return self._balances.setdefault(page.name, Balance(page, 0, 0, "", now))

    def balance(self, page: PageName, start: datetime, end: datetime) -> tuple[Balance, int]:
        expiring = sum(
            s.lot.remaining
            for s in self._lots.values()
            if s.page == page.name and s.lot.expire_time is not None and start < s.lot.expire_time <= end
        )
        return self._balances.get(page.name) or Balance(page, 0, 0, "", None), expiring

    def append(self, entry: LedgerEntry, held: Balance) -> None:
        if entry.balance_after != held.balance + entry.credits:
            raise ValueError("the entry does not follow the held balance")
        if entry.balance_after < 0 or entry.credits == 0:
            raise ConstraintViolation("ck_ledger_entries: a balance below zero or an entry of no credits")
        if entry.request_id is not None and any(
            (e.page, e.request_id) == (entry.page, entry.request_id) for e in self._entries.values()
        ):
            raise DuplicateRecord(f"ledger entry request {entry.request_id!r} of {entry.page.name} exists")
        insert_unique(self._entries, entry.id, entry, "ledger entry")
        stored = self._balances.get(entry.page.name)
        if stored is None or stored.version != held.version:
            raise errors.Conflict("the balance changed concurrently; retry", reason="BALANCE_CHANGED")
        self._balances[entry.page.name] = replace(
            stored,
            balance=entry.balance_after,
            version=held.version + 1,
            last_entry_id=entry.id,
            updated_at=entry.created_at,
        )

    def get(self, page: PageName, entry_id: str) -> LedgerEntry | None:
        found = self._entries.get(entry_id)
        return found if found is not None and found.page == page else None

    def by_request(self, page: PageName, request_id: str) -> LedgerEntry | None:
        return next((e for e in self._entries.values() if e.page == page and e.request_id == request_id), None)

    def list_after(self, page: PageName, window: ListWindow, kind: LedgerEntryKind | None) -> list[LedgerEntry]:
        rows = [e for e in self._entries.values() if e.page == page and (kind is None or e.kind is kind)]
        return window_of(rows, window, lambda e: (e.id,), descending=True)

    def add_lot(self, page: PageName, lot: Lot) -> None:
        insert_unique(self._lots, lot.entry_id, StoredLot(page.name, lot), "lot")

    def lots(self, page: PageName) -> list[Lot]:
        return [s.lot for s in self._lots.values() if s.page == page.name and s.lot.remaining > 0]

    def lot(self, entry_id: str) -> Lot | None:
        stored = self._lots.get(entry_id)
        return stored.lot if stored is not None else None

    def save_lots(self, lots: list[Lot]) -> None:
        for lot in lots:
            if lot.remaining < 0:
                raise ConstraintViolation("ck_credit_lots_not_negative")
            stored = self._lots.get(lot.entry_id)
            if stored is not None:
                self._lots[lot.entry_id] = StoredLot(stored.page, replace(stored.lot, remaining=lot.remaining))

    def pages_with_expired_lots(self, now: datetime, limit: int = 500) -> list[str]:
        pages = {
            s.page
            for s in self._lots.values()
            if s.lot.remaining > 0 and s.lot.expire_time is not None and s.lot.expire_time <= now
        }
        return sorted(pages)[:limit]


class MemoryUnlocks:
    def __init__(self, rows: dict[str, Unlock]) -> None:
        self._rows = rows

    def get(self, page: PageName, unlock_id: str) -> Unlock | None:
        found = self._rows.get(unlock_id)
        return found if found is not None and found.page == page else None

    def by_request(self, page: PageName, request_id: str) -> Unlock | None:
        return next((u for u in self._rows.values() if u.page == page and u.request_id == request_id), None)

    def by_target(self, page: PageName, target: PageName) -> Unlock | None:
        return next((u for u in self._rows.values() if u.page == page and u.target == target), None)

    def add(self, unlock: Unlock) -> None:
        if any((u.page, u.target) == (unlock.page, unlock.target) for u in self._rows.values()):
            raise DuplicateRecord(f"{unlock.page.name} unlocked {unlock.target.name} before")
        if unlock.request_id is not None and any(
            (u.page, u.request_id) == (unlock.page, unlock.request_id) for u in self._rows.values()
        ):
            raise DuplicateRecord(f"unlock request {unlock.request_id!r} of {unlock.page.name} exists")
        insert_unique(self._rows, unlock.id, unlock, "unlock")

    def list_after(self, page: PageName, window: ListWindow, target_kind: PageKind | None) -> list[Unlock]:
        rows = [
            u for u in self._rows.values() if u.page == page and (target_kind is None or u.target.kind is target_kind)
        ]
        return window_of(rows, window, lambda u: (u.id,), descending=True)

    def unlockers_of(self, target: PageName, limit: int = 1000) -> list[str]:
        return [u.page.name for u in sorted(self._rows.values(), key=lambda u: u.id) if u.target == target][:limit]

    def all_after(self, after_id: str | None, limit: int) -> list[Unlock]:
        rows = [u for u in self._rows.values() if after_id is None or u.id > after_id]
        return sorted(rows, key=lambda u: u.id)[:limit]


class MemoryInvoices:
    def __init__(self, rows: dict[str, Invoice], counters: dict[int, int]) -> None:
        self._rows = rows
        self._counters = counters

    def next_number(self, year: int) -> int:
        self._counters[year] = self._counters.get(year, 0) + 1
        return self._counters[year]

    def add(self, invoice: Invoice) -> None:
        insert_unique(self._rows, invoice.id, invoice, "invoice")

    def save(self, invoice: Invoice) -> None:
        if invoice.id in self._rows:
            self._rows[invoice.id] = invoice

    def get(self, page: PageName, invoice_id: str) -> Invoice | None:
        found = self._rows.get(invoice_id)
        return found if found is not None and found.page == page else None

    def by_provider_reference(self, reference: str, lock: bool = False) -> Invoice | None:
        return next((i for i in self._rows.values() if i.provider_reference == reference), None)

    def list_after(self, page: PageName, window: ListWindow, state: InvoiceState | None) -> list[Invoice]:
        rows = [i for i in self._rows.values() if i.page == page and (state is None or i.state is state)]
        return window_of(rows, window, lambda i: (i.id,), descending=True)


class MemoryPaymentEvents:
    def __init__(self, rows: dict[str, tuple[str, datetime]]) -> None:
        self._rows = rows

    def record(self, event_id: str, event_type: str, now: datetime) -> bool:
        if event_id in self._rows:
            return False
        self._rows[event_id] = (event_type, now)
        return True


@dataclass(frozen=True)
class Published:
    """One event a use case wrote (what the SQL publisher turns into outbox messages)."""

    kind: str  # the publisher's method: "credits_granted", "unlock_created"...
    args: tuple[Any, ...]


class RecordedEvents:
    """`ports.BillingEvents` writing to the unit of work's "outbox" table (committed with it)."""

    def __init__(self, outbox: dict[int, Published]) -> None:
        self._outbox = outbox

    def _add(self, kind: str, *args: Any) -> None:
        self._outbox[len(self._outbox)] = Published(kind, args)

    def payment_succeeded(self, invoice: Invoice, contact_email: str) -> None:
        self._add("payment_succeeded", invoice, contact_email)

    def payment_failed(self, page: PageName, checkout: str, subscription: str, reason: str, contact_email: str) -> None:
        self._add("payment_failed", page, checkout, subscription, reason, contact_email)

    def credits_granted(self, entry: LedgerEntry) -> None:
        self._add("credits_granted", entry)

    def subscription_changed(self, subscription: Subscription, previous: SubscriptionState | None) -> None:
        self._add("subscription_changed", subscription, previous)

    def unlock_created(self, unlock: Unlock, balance: int) -> None:
        self._add("unlock_created", unlock, balance)

    def entitlements_changed(self, entitlements: PageEntitlements, previous_plan_id: str) -> None:
        self._add("entitlements_changed", entitlements, previous_plan_id)


def published(store: MemoryStore, kind: str | None = None) -> list[Published]:
    """The events committed to `store`, in order (only those of `kind` when given)."""
    outbox: dict[int, Published] = store.tables.get("outbox", {})
    return [outbox[n] for n in sorted(outbox) if kind is None or outbox[n].kind == kind]


class FakeBillingUnitOfWork(MemoryUnitOfWork):
    plans: MemoryPlans
    subscriptions: MemorySubscriptions
    plan_changes: MemoryPlanChanges
    checkouts: MemoryCheckouts
    ledger: MemoryLedger
    unlocks: MemoryUnlocks
    invoices: MemoryInvoices
    payment_events: MemoryPaymentEvents
    events: RecordedEvents

    def _open_repositories(self) -> None:
        self.plans = MemoryPlans(self.table("plans"))
        self.subscriptions = MemorySubscriptions(self.table("subscriptions"))
        self.plan_changes = MemoryPlanChanges(self.table("plan_changes"))
        self.checkouts = MemoryCheckouts(self.table("checkouts"))
        self.ledger = MemoryLedger(
            self.table("credit_balances"), self.table("ledger_entries"), self.table("credit_lots")
        )
        self.unlocks = MemoryUnlocks(self.table("unlocks"))
        self.invoices = MemoryInvoices(self.table("invoices"), self.table("invoice_counters"))
        self.payment_events = MemoryPaymentEvents(self.table("payment_events"))
        self.events = RecordedEvents(self.table("outbox"))


# --- the ports to other services and to the provider ------------------------------------------
class FakePageStates:
    """Every page exists and is active unless told otherwise (`states[name] = None` for a missing one)."""

    def __init__(self) -> None:
        self.states: dict[str, TargetState | None] = {}
        self.asked: list[str] = []

    def state(self, page: PageName) -> TargetState | None:
        self.asked.append(page.name)
        return self.states.get(page.name, TargetState.ACTIVE)


class FakeProvider:
    """Records what the use cases ask the payment provider; `refuse` makes its calls fail, and
    `meanwhile` runs once during the next call (what happens elsewhere while the provider answers)."""

    def __init__(self) -> None:
        self.checkouts: list[CheckoutRequest] = []
        self.cancellations: list[tuple[str, bool]] = []
        self.changes: list[SubscriptionChange] = []
        self.charged: dict[str, ProviderCharge] = {}  # idempotency key -> charge, as the provider keeps them
        self.refuse: errors.DomainError | None = None
        self.meanwhile: Callable[[], object] | None = None
        self._ids = itertools.count(1)

    def _answer(self) -> None:
        if self.refuse is not None:
            raise self.refuse
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()

    def create_checkout(self, request: CheckoutRequest) -> ProviderCheckout:
        self._answer()
        self.checkouts.append(request)
        reference = f"cs_{next(self._ids)}"
        return ProviderCheckout(reference, f"https://pay.example/{reference}")

    def cancel_subscription(self, reference: str, at_period_end: bool) -> None:
        self._answer()
        self.cancellations.append((reference, at_period_end))

    def change_subscription(self, change: SubscriptionChange) -> ProviderCharge | None:
        self._answer()
        self.changes.append(change)
        if change.charge is None:
            return None
        key = change.idempotency_key
        if key not in self.charged:
            payment = f"pay_change_{next(self._ids)}"
            self.charged[key] = ProviderCharge(payment, f"https://pay.example/receipts/{payment}")
        return self.charged[key]

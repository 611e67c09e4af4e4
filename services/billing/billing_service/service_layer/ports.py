"""What the use cases need from the outside world, as interfaces (adapters implement them).

The unit of work (`BillingUnitOfWork`) is one transaction over the service's stores and its outbox:
SQL in production (`service_layer.unit_of_work.SqlBillingUnitOfWork`), in memory in the use-case
tests (`tests/fakes.py`). Page permissions (CheckPageAccess) and states (BatchGet*) are answered by
the service owning the page, blocked pairs by the matching service (CheckBlocked), payments by the
provider; the use cases see none of that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from billing_service.domain.checkouts import Checkout
from billing_service.domain.entitlements import PageEntitlements
from billing_service.domain.invoices import Invoice, InvoiceState
from billing_service.domain.ledger import Balance, LedgerEntry, LedgerEntryKind, Lot
from billing_service.domain.money import Money
from billing_service.domain.plan_changes import PlanChange
from billing_service.domain.plans import Interval, Plan, PlanKind
from billing_service.domain.subscriptions import Subscription, SubscriptionState
from billing_service.domain.unlocks import TargetState, Unlock
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import UnitOfWork


# --- the stores of the unit of work ----------------------------------------------------------
# A `list_after` returns up to `window.size + 1` items after the window's keyset position (the
# extra one tells `finish_window` there is more). `add` raises DuplicateRecord on a unique key.
class PlanStore(Protocol):
    def get(self, plan_id: str) -> Plan | None: ...

    def list_after(
        self, window: ListWindow, page_kind: PageKind | None, kind: PlanKind | None, show_inactive: bool
    ) -> list[Plan]:
        """Cheapest first (`plans.plan_position`)."""
        ...


class SubscriptionStore(Protocol):
    def get(self, page: PageName, subscription_id: str, lock: bool = False) -> Subscription | None: ...

    def get_by_id(self, subscription_id: str, lock: bool = False) -> Subscription | None: ...

    def by_provider_reference(self, reference: str, lock: bool = False) -> Subscription | None: ...

    def add(self, subscription: Subscription) -> None: ...

    def save(self, subscription: Subscription) -> None: ...

    def list_after(self, page: PageName, window: ListWindow, states: list[SubscriptionState]) -> list[Subscription]:
        """Live first, then newest first (`subscriptions.subscription_position`); all states when empty."""
        ...

    def due_ids(self, now: datetime, limit: int = 500) -> list[str]:
        """Live subscriptions whose period ended at `now` or before, the oldest end first."""
        ...


class PlanChangeStore(Protocol):
    def add(self, change: PlanChange) -> None:
        """DuplicateRecord for a request id used before on the page."""
        ...

    def by_request(self, page: PageName, request_id: str) -> PlanChange | None: ...

    def of_subscription(self, subscription_id: str) -> list[PlanChange]:
        """Oldest first."""
        ...


class CheckoutStore(Protocol):
    def get(self, page: PageName, checkout_id: str) -> Checkout | None: ...

    def get_by_id(self, checkout_id: str, lock: bool = False) -> Checkout | None: ...

    def by_request(self, page: PageName, request_id: str) -> Checkout | None: ...

    def by_provider_reference(self, reference: str, lock: bool = False) -> Checkout | None: ...

    def add(self, checkout: Checkout) -> None:
        """DuplicateRecord for a second checkout of the page with the same request id."""
        ...

    def save(self, checkout: Checkout) -> None: ...

    def expired_open_ids(self, now: datetime, limit: int = 500) -> list[str]: ...


class LedgerStore(Protocol):
    """Entries, balances and lots of pages' credits. `lock_balance` holds the page's balance until
    the end of the transaction: every change of a page's credits takes it first."""

    def lock_balance(self, page: PageName, now: datetime) -> Balance: ...

    def balance(self, page: PageName, start: datetime, end: datetime) -> tuple[Balance, int]:
        """The page's balance, and the credits left in its lots expiring after `start`, until `end` included."""
        ...

    def append(self, entry: LedgerEntry, held: Balance) -> None:
        """Write `entry`, moving the held balance to its `balance_after`: Conflict when the balance
        changed since it was held, ConstraintViolation below zero, DuplicateRecord for a request id
        used before on the page."""
        ...

    def get(self, page: PageName, entry_id: str) -> LedgerEntry | None: ...

    def by_request(self, page: PageName, request_id: str) -> LedgerEntry | None: ...

    def list_after(self, page: PageName, window: ListWindow, kind: LedgerEntryKind | None) -> list[LedgerEntry]:
        """Newest first."""
        ...

    def add_lot(self, page: PageName, lot: Lot) -> None: ...

    def lots(self, page: PageName) -> list[Lot]:
        """The page's lots with credits left."""
        ...

    def lot(self, entry_id: str) -> Lot | None: ...

    def save_lots(self, lots: list[Lot]) -> None: ...

    def pages_with_expired_lots(self, now: datetime, limit: int = 500) -> list[str]: ...


class UnlockStore(Protocol):
    def get(self, page: PageName, unlock_id: str) -> Unlock | None: ...

    def by_request(self, page: PageName, request_id: str) -> Unlock | None: ...

    def by_target(self, page: PageName, target: PageName) -> Unlock | None: ...

    def add(self, unlock: Unlock) -> None:
        """DuplicateRecord for a second unlock of the pair, or a request id used before."""
        ...

    def list_after(self, page: PageName, window: ListWindow, target_kind: PageKind | None) -> list[Unlock]:
        """Newest first."""
        ...

    def unlockers_of(self, target: PageName, limit: int = 1000) -> list[str]:
        """The names of the pages that unlocked `target`, in the order they did."""
        ...

    def all_after(self, after_id: str | None, limit: int) -> list[Unlock]:
        """Up to `limit` unlocks of every page, in id order, after `after_id` (from the first when None)."""
        ...


class InvoiceStore(Protocol):
    def next_number(self, year: int) -> int:
        """The next sequence number of `year` (held until the end of the transaction)."""
        ...

    def add(self, invoice: Invoice) -> None: ...

    def save(self, invoice: Invoice) -> None: ...

    def get(self, page: PageName, invoice_id: str) -> Invoice | None: ...

    def by_provider_reference(self, reference: str, lock: bool = False) -> Invoice | None: ...

    def list_after(self, page: PageName, window: ListWindow, state: InvoiceState | None) -> list[Invoice]:
        """Newest first."""
        ...


class PaymentEventStore(Protocol):
    def record(self, event_id: str, event_type: str, now: datetime) -> bool:
        """True the first time `event_id` is recorded (it commits with the event's effects)."""
        ...


class BillingEvents(Protocol):
    """The service's events, written in the unit of work's transaction (the outbox)."""

    def payment_succeeded(self, invoice: Invoice, contact_email: str) -> None: ...

    def payment_failed(
        self, page: PageName, checkout: str, subscription: str, reason: str, contact_email: str
    ) -> None: ...

    def credits_granted(self, entry: LedgerEntry) -> None: ...

    def subscription_changed(self, subscription: Subscription, previous: SubscriptionState | None) -> None: ...

    def unlock_created(self, unlock: Unlock, balance: int) -> None: ...

    def entitlements_changed(self, entitlements: PageEntitlements, previous_plan_id: str) -> None: ...


class BillingUnitOfWork(UnitOfWork, Protocol):
    """One transaction over billing's stores and its outbox."""

    @property
    def plans(self) -> PlanStore: ...

    @property
    def subscriptions(self) -> SubscriptionStore: ...

    @property
    def plan_changes(self) -> PlanChangeStore: ...

    @property
    def checkouts(self) -> CheckoutStore: ...

    @property
    def ledger(self) -> LedgerStore: ...

    @property
    def unlocks(self) -> UnlockStore: ...

    @property
    def invoices(self) -> InvoiceStore: ...

    @property
    def payment_events(self) -> PaymentEventStore: ...

    @property
    def events(self) -> BillingEvents: ...


# --- other services (page access and blocks: devinsider_common.pages.authorization) ------------


class PageStates(Protocol):
    def state(self, page: PageName) -> TargetState | None:
        """The page's state as its owning service sees it now (never cached); None when it does
        not exist or is deleted. Unavailable when that service cannot be reached."""
        ...


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str  # our checkout's resource name, echoed back in the provider's events
    description: str
    amount: Money
    subscription_interval: Interval  # NONE for one-off payments
    trial_days: int
    success_url: str
    cancel_url: str
    expire_time: datetime
    customer_email: str


@dataclass(frozen=True)
class ProviderCheckout:
    reference: str
    url: str


@dataclass(frozen=True)
class SubscriptionChange:
    """A subscription's new recurring price, from now on or from the next period; an upgrade's prorated
    `charge` is taken now on the subscription's payment method (none: nothing to charge)."""

    reference: str  # the provider's subscription
    idempotency_key: str  # the same key never charges twice
    description: str
    amount: Money  # per interval, taxes included
    interval: Interval
    at_period_end: bool
    charge: Money | None


@dataclass(frozen=True)
class ProviderCharge:
    payment: str  # the provider's payment id (refunds name it)
    receipt_url: str


class PaymentProvider(Protocol):
    def create_checkout(self, request: CheckoutRequest) -> ProviderCheckout: ...

    def cancel_subscription(self, reference: str, at_period_end: bool) -> None: ...

    def change_subscription(self, change: SubscriptionChange) -> ProviderCharge | None:
        """The new price told to the provider and the charge taken (None without one). A declined charge
        is FailedPrecondition `PAYMENT_DECLINED`, and then nothing changes at the provider."""
        ...

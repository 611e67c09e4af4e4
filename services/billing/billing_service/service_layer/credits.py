"""Moving credits inside a unit of work: every change holds the page's balance first.

Grants (and refunds) open a lot; spends consume lots expiring first; expiries and payment
refunds withdraw what is left of a lot. The balance never goes negative: the domain refuses it,
the held row serialises concurrent changes, and the database's CHECK constraints back both.
A subscription's credits are granted once per period (and an upgrade's once per period and plan)
under a ledger request id naming it: a second event about the same period grants nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from billing_service.domain import ledger as rules
from billing_service.domain.ledger import Balance, LedgerEntry, LedgerEntryKind, Lot
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer.ports import BillingUnitOfWork
from devinsider_common.ids import new_id
from devinsider_common.pages.names import PageName


def _entry(
    page: PageName, kind: LedgerEntryKind, change: int, held: Balance, now: datetime, **fields: object
) -> LedgerEntry:
    return LedgerEntry(
        id=new_id(),
        page=page,
        kind=kind,
        credits=change,
        balance_after=rules.apply(held.balance, change),
        created_at=now,
        **fields,  # type: ignore[arg-type]
    )


def add_credits(
    uow: BillingUnitOfWork,
    page: PageName,
    kind: LedgerEntryKind,
    amount: int,
    *,
    now: datetime,
    description: str,
    reference: str,
    creator: str,
    expire_time: datetime | None = None,
    request_id: str | None = None,
) -> LedgerEntry:
    """A GRANT or REFUND of `amount` credits, published as CreditsGranted."""
    change = rules.signed_credits(kind, amount)
    held = uow.ledger.lock_balance(page, now)
    entry = _entry(
        page,
        kind,
        change,
        held,
        now,
        description=description,
        reference=reference,
        creator=creator,
        expire_time=expire_time,
        request_id=request_id,
    )
    uow.ledger.append(entry, held)
    uow.ledger.add_lot(page, Lot(entry.id, amount, expire_time))
    uow.events.credits_granted(entry)
    return entry


def upgrade_key(subscription: Subscription, plan_id: str) -> str:
    """The ledger request id of the extra credits of an upgrade to `plan_id` in the current period."""
    return f"upgrade:{subscription.id}:{int(subscription.current_period_start.timestamp())}:{plan_id}"


def grant_once(
    uow: BillingUnitOfWork,
    page: PageName,
    amount: int,
    key: str,
    *,
    now: datetime,
    description: str,
    reference: str,
    creator: str,
) -> LedgerEntry | None:
    """A GRANT of `amount` under the ledger request id `key`; None when one was made under it already, or
    when there is nothing to grant."""
    if amount <= 0 or uow.ledger.by_request(page, key) is not None:
        return None
    return add_credits(
        uow,
        page,
        LedgerEntryKind.GRANT,
        amount,
        now=now,
        description=description,
        reference=reference,
        creator=creator,
        request_id=key,
    )


def grant_period(
    uow: BillingUnitOfWork, subscription: Subscription, amount: int, *, now: datetime, description: str, creator: str
) -> LedgerEntry | None:
    """The credits of a subscription's current period, once: the ledger request id names the period."""
    key = f"period:{subscription.id}:{int(subscription.current_period_start.timestamp())}"
    return grant_once(
        uow,
        subscription.page,
        amount,
        key,
        now=now,
        description=description,
        reference=subscription.name,
        creator=creator,
    )


def spend(
    uow: BillingUnitOfWork,
    page: PageName,
    held: Balance,
    amount: int,
    *,
    now: datetime,
    description: str,
    reference: str,
    creator: str,
) -> LedgerEntry:
    """A SPEND of `amount` from the held balance (InsufficientCredits when it does not cover it)."""
    change = rules.signed_credits(LedgerEntryKind.SPEND, amount)
    entry = _entry(
        page, LedgerEntryKind.SPEND, change, held, now, description=description, reference=reference, creator=creator
    )
    uow.ledger.save_lots(rules.consume(uow.ledger.lots(page), amount, now))
    uow.ledger.append(entry, held)
    return entry


def withdraw_lot(
    uow: BillingUnitOfWork,
    page: PageName,
    lot_entry_id: str,
    *,
    now: datetime,
    description: str,
    reference: str,
    creator: str,
) -> LedgerEntry | None:
    """EXPIRE what is left of one lot (an expired grant, or the credits of a refunded payment)."""
    held = uow.ledger.lock_balance(page, now)
    lot = uow.ledger.lot(lot_entry_id)
    if lot is None or lot.remaining == 0:
        return None
    taken = min(lot.remaining, held.balance)  # never below zero, whatever the lots say
    uow.ledger.save_lots([replace(lot, remaining=0)])
    if taken == 0:
        return None
    entry = _entry(
        page, LedgerEntryKind.EXPIRE, -taken, held, now, description=description, reference=reference, creator=creator
    )
    uow.ledger.append(entry, held)
    return entry


def expire_due_lots(uow: BillingUnitOfWork, page: PageName, now: datetime) -> int:
    """Withdraw every expired lot of `page`; returns how many entries were written."""
    uow.ledger.lock_balance(page, now)
    written = 0
    for lot in uow.ledger.lots(page):
        if lot.expire_time is not None and lot.expire_time <= now:
            entry = withdraw_lot(
                uow,
                page,
                lot.entry_id,
                now=now,
                description="credits expired",
                reference=f"{page.name}/ledgerEntries/{lot.entry_id}",
                creator="billing",
            )
            written += entry is not None
    return written

"""The credit ledger: append-only entries and a balance that never goes negative.

GRANT and REFUND add credits; SPEND and EXPIRE take them away. Granted credits are kept as
lots (what is left of each grant and when it expires) so that spending uses the credits that
expire first and the expiry job withdraws exactly what is left of an expired grant.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from devinsider_common import errors
from devinsider_common.pages.names import PageName

MAX_CREDITS_PER_ENTRY = 1_000_000


class LedgerEntryKind(enum.IntEnum):
    GRANT = 1
    SPEND = 2
    REFUND = 3
    EXPIRE = 4

    @property
    def adds(self) -> bool:
        return self in (LedgerEntryKind.GRANT, LedgerEntryKind.REFUND)


@dataclass(frozen=True)
class LedgerEntry:
    id: str
    page: PageName
    kind: LedgerEntryKind
    credits: int  # signed: positive for GRANT/REFUND, negative for SPEND/EXPIRE
    balance_after: int
    description: str
    reference: str
    creator: str
    created_at: datetime
    expire_time: datetime | None = None
    request_id: str | None = None

    @property
    def name(self) -> str:
        return f"{self.page.name}/ledgerEntries/{self.id}"


@dataclass(frozen=True)
class Lot:
    """What is left of one grant (or refund) and when it expires (None: never)."""

    entry_id: str
    remaining: int
    expire_time: datetime | None


@dataclass(frozen=True)
class Balance:
    """A page's balance as stored: `version` fences concurrent updates (a page never seen is 0)."""

    page: PageName
    balance: int
    version: int
    last_entry_id: str
    updated_at: datetime | None


@dataclass(frozen=True)
class CreditBalance:
    """What GetCreditBalance answers: the balance and how much of it expires soon."""

    page: PageName
    balance: int
    expiring_soon: int
    last_entry_id: str
    updated_at: datetime | None


class InsufficientCredits(errors.FailedPrecondition):
    pass


def signed_credits(kind: LedgerEntryKind, amount: int) -> int:
    """The signed change of balance of an entry of `kind` moving `amount` (> 0) credits."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise errors.InvalidArgument.for_field("ledger_entry.credits", "must be a positive number of credits")
    if amount > MAX_CREDITS_PER_ENTRY:
        raise errors.InvalidArgument.for_field("ledger_entry.credits", f"must be at most {MAX_CREDITS_PER_ENTRY}")
    return amount if kind.adds else -amount


def apply(balance: int, change: int) -> int:
    """The balance after `change`; InsufficientCredits rather than a negative balance."""
    after = balance + change
    if after < 0:
        raise InsufficientCredits(
            f"this needs {-change} credits and the balance is {balance}",
            reason="INSUFFICIENT_CREDITS",
            metadata={"balance": str(balance), "required": str(-change)},
        )
    return after


def consume(lots: list[Lot], amount: int, now: datetime) -> list[Lot]:
    """Take `amount` credits from the unexpired lots, those expiring first first; returns changed lots."""
    usable = [lot for lot in lots if lot.remaining > 0 and (lot.expire_time is None or lot.expire_time > now)]
    usable.sort(key=lambda lot: (lot.expire_time is None, lot.expire_time or now, lot.entry_id))
    changed: list[Lot] = []
    left = amount
    for lot in usable:
        if left == 0:
            break
        taken = min(lot.remaining, left)
        changed.append(Lot(lot.entry_id, lot.remaining - taken, lot.expire_time))
        left -= taken
    if left:
        raise InsufficientCredits("not enough unexpired credits", reason="INSUFFICIENT_CREDITS")
    return changed

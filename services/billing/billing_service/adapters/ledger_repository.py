"""Credit balances, ledger entries, lots and unlocks in PostgreSQL/SQLite.

`lock_balance` is the serialisation point of every change of a page's credits: it makes sure the
balance row exists, then holds it (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite its first
write takes the database's single write lock) until the transaction ends. Balance updates are
also fenced by the row's version, and CHECK constraints refuse negative balances whatever happens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from billing_service.adapters.sql import insert_ignore, must_utc, utc
from billing_service.adapters.tables import credit_balances, credit_lots, ledger_entries, unlocks
from billing_service.domain.ledger import Balance, LedgerEntry, LedgerEntryKind, Lot
from billing_service.domain.unlocks import Unlock
from devinsider_common import errors
from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.pagination import ListWindow


def _entry(row: RowMapping) -> LedgerEntry:
    return LedgerEntry(
        id=row["id"],
        page=parse_page(row["page"], "page"),
        kind=LedgerEntryKind(row["kind"]),
        credits=int(row["credits"]),
        balance_after=int(row["balance_after"]),
        description=row["description"],
        reference=row["reference"],
        creator=row["creator"],
        created_at=must_utc(row["created_at"]),
        expire_time=utc(row["expire_time"]),
        request_id=row["request_id"],
    )


class LedgerRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def lock_balance(self, page: PageName, now: datetime) -> Balance:
        """The page's balance, held until the end of the transaction (created at 0 on first use)."""
        insert_ignore(
            self._connection,
            credit_balances,
            {"page": page.name, "balance": 0, "version": 0, "last_entry_id": "", "updated_at": now},
        )
        query = select(credit_balances).where(credit_balances.c.page == page.name).with_for_update()
        row = self._connection.execute(query).mappings().one()
        return Balance(page, int(row["balance"]), int(row["version"]), row["last_entry_id"], utc(row["updated_at"]))

    def balance(self, page: PageName, start: datetime, end: datetime) -> tuple[Balance, int]:
        """One statement: the sum of the lots expiring in (start, end] (an aggregate: always one row) left
        joined to the page's balance row (absent for a page never credited)."""
        lots = credit_lots.c
        soon = (
            select(func.coalesce(func.sum(lots.remaining), 0).label("expiring"))
            .where(lots.page == page.name, lots.expire_time > start, lots.expire_time <= end)
            .subquery()
        )
        joined = soon.outerjoin(credit_balances, credit_balances.c.page == page.name)
        row = self._connection.execute(select(soon.c.expiring, credit_balances).select_from(joined)).mappings().one()
        if row["page"] is None:
            return Balance(page, 0, 0, "", None), int(row["expiring"])
        held = Balance(page, int(row["balance"]), int(row["version"]), row["last_entry_id"], utc(row["updated_at"]))
        return held, int(row["expiring"])

    def append(self, entry: LedgerEntry, held: Balance) -> None:
        """Write `entry` and move the held balance to its `balance_after` (fenced by version)."""
        if entry.balance_after != held.balance + entry.credits:
            raise ValueError("the entry does not follow the held balance")
        self._connection.execute(
            insert(ledger_entries).values(
                id=entry.id,
                page=entry.page.name,
                kind=int(entry.kind),
                credits=entry.credits,
                balance_after=entry.balance_after,
                description=entry.description,
                reference=entry.reference,
                creator=entry.creator,
                created_at=entry.created_at,
                expire_time=entry.expire_time,
                request_id=entry.request_id,
            )
        )
        moved = self._connection.execute(
            update(credit_balances)
            .where(credit_balances.c.page == entry.page.name, credit_balances.c.version == held.version)
            .values(
                balance=entry.balance_after,
                version=held.version + 1,
                last_entry_id=entry.id,
                updated_at=entry.created_at,
            )
        ).rowcount
        if moved != 1:
            raise errors.Conflict("the balance changed concurrently; retry", reason="BALANCE_CHANGED")

    def get(self, page: PageName, entry_id: str) -> LedgerEntry | None:
        query = select(ledger_entries).where(ledger_entries.c.page == page.name, ledger_entries.c.id == entry_id)
        row = self._connection.execute(query).mappings().first()
        return _entry(row) if row else None

    def by_request(self, page: PageName, request_id: str) -> LedgerEntry | None:
        query = select(ledger_entries).where(
            ledger_entries.c.page == page.name, ledger_entries.c.request_id == request_id
        )
        row = self._connection.execute(query).mappings().first()
        return _entry(row) if row else None

    def list_after(self, page: PageName, window: ListWindow, kind: LedgerEntryKind | None) -> list[LedgerEntry]:
        query = select(ledger_entries).where(ledger_entries.c.page == page.name)
        if kind is not None:
            query = query.where(ledger_entries.c.kind == int(kind))
        if window.after is not None:
            query = query.where(ledger_entries.c.id < window.after[0])
        query = query.order_by(ledger_entries.c.id.desc()).limit(window.size + 1)
        return [_entry(row) for row in self._connection.execute(query).mappings()]

    # Lots: what is left of each grant; changed only while the page's balance is held.
    def add_lot(self, page: PageName, lot: Lot) -> None:
        self._connection.execute(
            insert(credit_lots).values(
                entry_id=lot.entry_id, page=page.name, remaining=lot.remaining, expire_time=lot.expire_time
            )
        )

    def lots(self, page: PageName) -> list[Lot]:
        query = select(credit_lots).where(credit_lots.c.page == page.name, credit_lots.c.remaining > 0)
        return [
            Lot(row["entry_id"], int(row["remaining"]), utc(row["expire_time"]))
            for row in self._connection.execute(query).mappings()
        ]

    def lot(self, entry_id: str) -> Lot | None:
        row = self._connection.execute(select(credit_lots).where(credit_lots.c.entry_id == entry_id)).mappings().first()
        return Lot(row["entry_id"], int(row["remaining"]), utc(row["expire_time"])) if row else None

    def save_lots(self, lots: list[Lot]) -> None:
        for lot in lots:
            self._connection.execute(
                update(credit_lots).where(credit_lots.c.entry_id == lot.entry_id).values(remaining=lot.remaining)
            )

    def pages_with_expired_lots(self, now: datetime, limit: int = 500) -> list[str]:
        query = (
            select(credit_lots.c.page)
            .where(credit_lots.c.remaining > 0, credit_lots.c.expire_time <= now)
            .distinct()
            .limit(limit)
        )
        return list(self._connection.execute(query).scalars())


def _unlock(row: RowMapping) -> Unlock:
    return Unlock(
        id=row["id"],
        page=parse_page(row["page"], "page"),
        target=parse_page(row["target"], "page"),
        cost=int(row["cost"]),
        ledger_entry_id=row["ledger_entry_id"],
        creator=row["creator"],
        created_at=must_utc(row["created_at"]),
        request_id=row["request_id"],
    )


class UnlockRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _one(self, *where: Any) -> Unlock | None:
        row = self._connection.execute(select(unlocks).where(*where)).mappings().first()
        return _unlock(row) if row else None

    def get(self, page: PageName, unlock_id: str) -> Unlock | None:
        return self._one(unlocks.c.page == page.name, unlocks.c.id == unlock_id)

    def by_request(self, page: PageName, request_id: str) -> Unlock | None:
        return self._one(unlocks.c.page == page.name, unlocks.c.request_id == request_id)

    def by_target(self, page: PageName, target: PageName) -> Unlock | None:
        return self._one(unlocks.c.page == page.name, unlocks.c.target == target.name)

    def add(self, unlock: Unlock) -> None:
        self._connection.execute(
            insert(unlocks).values(
                id=unlock.id,
                page=unlock.page.name,
                target=unlock.target.name,
                target_kind=int(unlock.target.kind),
                cost=unlock.cost,
                ledger_entry_id=unlock.ledger_entry_id,
                creator=unlock.creator,
                created_at=unlock.created_at,
                request_id=unlock.request_id,
            )
        )

    def list_after(self, page: PageName, window: ListWindow, target_kind: PageKind | None) -> list[Unlock]:
        query = select(unlocks).where(unlocks.c.page == page.name)
        if target_kind is not None:
            query = query.where(unlocks.c.target_kind == int(target_kind))
        if window.after is not None:
            query = query.where(unlocks.c.id < window.after[0])
        query = query.order_by(unlocks.c.id.desc()).limit(window.size + 1)
        return [_unlock(row) for row in self._connection.execute(query).mappings()]

    def unlockers_of(self, target: PageName, limit: int = 1000) -> list[str]:
        query = select(unlocks.c.page).where(unlocks.c.target == target.name).order_by(unlocks.c.id).limit(limit)
        return list(self._connection.execute(query).scalars())

    def all_after(self, after_id: str | None, limit: int) -> list[Unlock]:
        query = select(unlocks)
        if after_id is not None:
            query = query.where(unlocks.c.id > after_id)
        query = query.order_by(unlocks.c.id).limit(limit)  # the primary key's index: no sort, no offset
        return [_unlock(row) for row in self._connection.execute(query).mappings()]

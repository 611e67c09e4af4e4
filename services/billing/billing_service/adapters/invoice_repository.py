"""Invoices (numbered per year from a locked counter) and the log of applied provider events."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from billing_service.adapters.sql import insert_ignore, must_utc, utc
from billing_service.adapters.tables import invoice_counters, invoices, payment_events
from billing_service.domain.invoices import Invoice, InvoiceLine, InvoiceState
from billing_service.domain.money import Money
from devinsider_common.pages.names import PageName, parse_page
from devinsider_common.pagination import ListWindow


def _invoice(row: RowMapping) -> Invoice:
    currency = row["currency"]
    lines = tuple(
        InvoiceLine(line["description"], line["plan_id"], line["quantity"], Money(currency, line["unit_price"]))
        for line in json.loads(row["lines"])
    )
    return Invoice(
        id=row["id"],
        page=parse_page(row["page"], "page"),
        number=row["number"],
        state=InvoiceState(row["state"]),
        lines=lines,
        subtotal=Money(currency, int(row["subtotal_minor"])),
        tax=Money(currency, int(row["tax_minor"])),
        total=Money(currency, int(row["total_minor"])),
        issue_time=must_utc(row["issue_time"]),
        checkout_id=row["checkout_id"],
        subscription_id=row["subscription_id"],
        provider_reference=row["provider_reference"],
        receipt_url=row["receipt_url"],
        pay_time=utc(row["pay_time"]),
        credits_entry_id=row["credits_entry_id"],
    )


def _row(invoice: Invoice) -> dict[str, Any]:
    lines = [
        {
            "description": line.description,
            "plan_id": line.plan_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price.amount_minor,
        }
        for line in invoice.lines
    ]
    return {
        "id": invoice.id,
        "page": invoice.page.name,
        "number": invoice.number,
        "state": int(invoice.state),
        "lines": json.dumps(lines),
        "currency": invoice.total.currency,
        "subtotal_minor": invoice.subtotal.amount_minor,
        "tax_minor": invoice.tax.amount_minor,
        "total_minor": invoice.total.amount_minor,
        "checkout_id": invoice.checkout_id,
        "subscription_id": invoice.subscription_id,
        "provider_reference": invoice.provider_reference,
        "receipt_url": invoice.receipt_url,
        "issue_time": invoice.issue_time,
        "pay_time": invoice.pay_time,
        "credits_entry_id": invoice.credits_entry_id,
    }


class InvoiceRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def next_number(self, year: int) -> int:
        """The next sequence number of `year`; the counter row stays locked until commit."""
        insert_ignore(self._connection, invoice_counters, {"year": year, "last": 0})
        self._connection.execute(
            update(invoice_counters).where(invoice_counters.c.year == year).values(last=invoice_counters.c.last + 1)
        )
        query = select(invoice_counters.c.last).where(invoice_counters.c.year == year)
        return int(self._connection.execute(query).scalar_one())

    def add(self, invoice: Invoice) -> None:
        self._connection.execute(insert(invoices).values(**_row(invoice)))

    def save(self, invoice: Invoice) -> None:
        self._connection.execute(update(invoices).where(invoices.c.id == invoice.id).values(**_row(invoice)))

    def get(self, page: PageName, invoice_id: str) -> Invoice | None:
        query = select(invoices).where(invoices.c.page == page.name, invoices.c.id == invoice_id)
        row = self._connection.execute(query).mappings().first()
        return _invoice(row) if row else None

    def by_provider_reference(self, reference: str, lock: bool = False) -> Invoice | None:
        query = select(invoices).where(invoices.c.provider_reference == reference)
        if lock:
            query = query.with_for_update()
        row = self._connection.execute(query).mappings().first()
        return _invoice(row) if row else None

    def list_after(self, page: PageName, window: ListWindow, state: InvoiceState | None) -> list[Invoice]:
        query = select(invoices).where(invoices.c.page == page.name)
        if state is not None:
            query = query.where(invoices.c.state == int(state))
        if window.after is not None:
            query = query.where(invoices.c.id < window.after[0])
        query = query.order_by(invoices.c.id.desc()).limit(window.size + 1)
        return [_invoice(row) for row in self._connection.execute(query).mappings()]


class PaymentEventLog:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, event_id: str, event_type: str, now: datetime) -> bool:
        """True the first time `event_id` is recorded; the row commits with the event's effects."""
        return insert_ignore(self._connection, payment_events, {"id": event_id, "type": event_type, "received_at": now})

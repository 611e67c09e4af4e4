"""Invoices and receipts: issued when the provider confirms a payment, refunded with it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from billing_service.domain.money import Money
from devinsider_common import errors
from devinsider_common.pages.names import PageName


class InvoiceState(enum.IntEnum):
    OPEN = 1
    PAID = 2
    VOID = 3
    REFUNDED = 4


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    plan_id: str
    quantity: int
    unit_price: Money

    @property
    def amount(self) -> Money:
        return self.unit_price.times(self.quantity)


@dataclass(frozen=True)
class Invoice:
    id: str
    page: PageName
    number: str
    state: InvoiceState
    lines: tuple[InvoiceLine, ...]
    subtotal: Money
    tax: Money
    total: Money
    issue_time: datetime
    checkout_id: str = ""
    subscription_id: str = ""
    provider_reference: str = ""
    receipt_url: str = ""
    pay_time: datetime | None = None
    credits_entry_id: str = ""

    @property
    def name(self) -> str:
        return f"{self.page.name}/invoices/{self.id}"

    def refunded(self) -> Invoice:
        if self.state is not InvoiceState.PAID:
            raise errors.FailedPrecondition(
                f"a {self.state.name.lower()} invoice cannot be refunded", reason="INVOICE_STATE"
            )
        return replace(self, state=InvoiceState.REFUNDED)


def paid_invoice(
    *,
    id: str,
    page: PageName,
    number: str,
    lines: tuple[InvoiceLine, ...],
    tax_rate_bps: int,
    now: datetime,
    **references: str,
) -> Invoice:
    """A paid invoice whose totals are computed from its lines (one currency for all)."""
    if not lines:
        raise ValueError("an invoice has at least one line")
    subtotal = lines[0].amount
    for line in lines[1:]:
        subtotal = subtotal + line.amount
    tax = subtotal.tax(tax_rate_bps)
    return Invoice(
        id=id,
        page=page,
        number=number,
        state=InvoiceState.PAID,
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        issue_time=now,
        pay_time=now,
        **references,
    )


def invoice_number(year: int, sequence: int) -> str:
    return f"DI-{year}-{sequence:06d}"

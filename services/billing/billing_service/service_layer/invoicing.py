"""Issuing a paid invoice inside a unit of work: its number, its row and PaymentSucceeded (with the receipt
mail). Every confirmed payment goes through here: a checkout, a renewal, an upgrade's prorated charge."""

from __future__ import annotations

from datetime import datetime

from billing_service.domain.invoices import Invoice, InvoiceLine, invoice_number, paid_invoice
from billing_service.service_layer.ports import BillingUnitOfWork
from devinsider_common.ids import new_id
from devinsider_common.pages.names import PageName


def issue_paid(
    uow: BillingUnitOfWork,
    page: PageName,
    lines: tuple[InvoiceLine, ...],
    *,
    tax_rate_bps: int,
    now: datetime,
    contact_email: str,
    **references: str,
) -> Invoice:
    invoice = paid_invoice(
        id=new_id(),
        page=page,
        number=invoice_number(now.year, uow.invoices.next_number(now.year)),
        lines=lines,
        tax_rate_bps=tax_rate_bps,
        now=now,
        **references,
    )
    uow.invoices.add(invoice)
    uow.events.payment_succeeded(invoice, contact_email)
    return invoice

"""Domain objects -> proto messages (responses and event payloads)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from billing_service.domain.checkouts import Checkout
from billing_service.domain.entitlements import Entitlements, PageEntitlements
from billing_service.domain.invoices import Invoice
from billing_service.domain.ledger import LedgerEntry
from billing_service.domain.money import Money
from billing_service.domain.plans import Plan
from billing_service.domain.subscriptions import Subscription
from billing_service.domain.unlocks import Unlock
from devinsider.billing.v1 import billing_pb2
from devinsider.common.v1 import money_pb2, page_pb2
from devinsider_common.clock import as_utc
from devinsider_common.pages.names import PageName


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(as_utc(value))
    return stamp


def money(value: Money) -> money_pb2.Money:
    return money_pb2.Money(currency_code=value.currency, amount_minor=value.amount_minor)


def page_ref(page: PageName) -> page_pb2.PageRef:
    return page_pb2.PageRef(kind=int(page.kind), name=page.name)  # type: ignore[arg-type]


def plan_to_proto(plan: Plan) -> billing_pb2.Plan:
    return billing_pb2.Plan(
        name=plan.name,
        display_name=plan.display_name,
        description=plan.description,
        page_kind=int(plan.page_kind),  # type: ignore[arg-type]
        kind=int(plan.kind),  # type: ignore[arg-type]
        interval=int(plan.interval),  # type: ignore[arg-type]
        price=money(plan.price),
        credits=plan.credits,
        trial_days=plan.trial_days,
        features=list(plan.features),
        active=plan.active,
        entitlements=entitlements_to_proto(plan.entitlements) if plan.entitlements else None,
    )


def entitlements_to_proto(e: Entitlements) -> billing_pb2.Entitlements:
    return billing_pb2.Entitlements(
        monthly_credits=e.monthly_credits,
        match_results_visible=e.match_results_visible,
        directory_filters=e.directory_filters,
        contact_requests_per_month=e.contact_requests_per_month,
        seats=e.seats,
    )


def page_entitlements_to_proto(p: PageEntitlements) -> billing_pb2.PageEntitlements:
    return billing_pb2.PageEntitlements(
        name=p.name,
        entitlements=entitlements_to_proto(p.entitlements),
        plan=f"plans/{p.plan_id}" if p.plan_id else "",
        free_tier=p.free_tier,
        subscription=f"{p.page.name}/subscriptions/{p.subscription_id}" if p.subscription_id else "",
        period_end_time=timestamp(p.period_end),
        scheduled_plan=f"plans/{p.scheduled_plan_id}" if p.scheduled_plan_id else "",
    )


def subscription_to_proto(s: Subscription) -> billing_pb2.Subscription:
    return billing_pb2.Subscription(
        name=s.name,
        plan=f"plans/{s.plan_id}",
        state=int(s.state),  # type: ignore[arg-type]
        price=money(s.price),
        trial_end_time=timestamp(s.trial_end),
        current_period_start_time=timestamp(s.current_period_start),
        current_period_end_time=timestamp(s.current_period_end),
        cancel_at_period_end=s.cancel_at_period_end,
        cancel_time=timestamp(s.cancel_time),
        end_time=timestamp(s.end_time),
        provider_reference=s.provider_reference,
        create_time=timestamp(s.created_at),
        update_time=timestamp(s.updated_at),
        scheduled_plan=f"plans/{s.scheduled_plan_id}" if s.scheduled_plan_id else "",
    )


def checkout_to_proto(c: Checkout) -> billing_pb2.Checkout:
    return billing_pb2.Checkout(
        name=c.name,
        plan=f"plans/{c.plan_id}",
        success_url=c.success_url,
        cancel_url=c.cancel_url,
        state=int(c.state),  # type: ignore[arg-type]
        checkout_url=c.checkout_url,
        amount=money(c.amount),
        provider_reference=c.provider_reference,
        subscription=f"{c.page.name}/subscriptions/{c.subscription_id}" if c.subscription_id else "",
        invoice=f"{c.page.name}/invoices/{c.invoice_id}" if c.invoice_id else "",
        creator=c.creator,
        create_time=timestamp(c.created_at),
        expire_time=timestamp(c.expire_time),
        close_time=timestamp(c.close_time),
    )


def ledger_entry_to_proto(e: LedgerEntry) -> billing_pb2.LedgerEntry:
    return billing_pb2.LedgerEntry(
        name=e.name,
        kind=int(e.kind),  # type: ignore[arg-type]
        credits=e.credits,
        balance_after=e.balance_after,
        description=e.description,
        reference=e.reference,
        expire_time=timestamp(e.expire_time),
        creator=e.creator,
        create_time=timestamp(e.created_at),
    )


def unlock_to_proto(u: Unlock) -> billing_pb2.Unlock:
    return billing_pb2.Unlock(
        name=u.name,
        target=page_ref(u.target),
        cost=u.cost,
        ledger_entry=f"{u.page.name}/ledgerEntries/{u.ledger_entry_id}",
        creator=u.creator,
        create_time=timestamp(u.created_at),
    )


def invoice_to_proto(i: Invoice) -> billing_pb2.Invoice:
    return billing_pb2.Invoice(
        name=i.name,
        number=i.number,
        state=int(i.state),  # type: ignore[arg-type]
        lines=[
            billing_pb2.InvoiceLine(
                description=line.description,
                plan=f"plans/{line.plan_id}",
                quantity=line.quantity,
                unit_price=money(line.unit_price),
                amount=money(line.amount),
            )
            for line in i.lines
        ],
        subtotal=money(i.subtotal),
        tax=money(i.tax),
        total=money(i.total),
        checkout=f"{i.page.name}/checkouts/{i.checkout_id}" if i.checkout_id else "",
        subscription=f"{i.page.name}/subscriptions/{i.subscription_id}" if i.subscription_id else "",
        provider_reference=i.provider_reference,
        receipt_url=i.receipt_url,
        issue_time=timestamp(i.issue_time),
        pay_time=timestamp(i.pay_time),
    )

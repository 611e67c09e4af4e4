"""The billing service's events, written to its outbox in the caller's transaction.

`devinsider_billing.exchange.direct` routes by its queue's name (the tree's rule for direct
exchanges), so every billing event reaches `devinsider_billing_queue`; the proto's informative
keys (`payment.succeeded`...) are the envelope's event type. Unlocks go to the fanout exchange.
"""

from __future__ import annotations

from google.protobuf.message import Message

from billing_service.adapters.proto_mapping import (
    invoice_to_proto,
    ledger_entry_to_proto,
    money,
    page_entitlements_to_proto,
    page_ref,
    subscription_to_proto,
    unlock_to_proto,
)
from billing_service.domain.entitlements import PageEntitlements
from billing_service.domain.invoices import Invoice
from billing_service.domain.ledger import LedgerEntry
from billing_service.domain.subscriptions import Subscription, SubscriptionState
from billing_service.domain.unlocks import Unlock
from devinsider.billing.v1 import events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter, add_direct, request_mail
from devinsider_common.pages.names import PageName

UNLOCK_ROUTING_KEY = "unlock.created"


class BillingEventPublisher:
    def __init__(self, outbox: OutboxWriter) -> None:
        self._outbox = outbox

    def payment_succeeded(self, invoice: Invoice, contact_email: str) -> None:
        event = events_pb2.PaymentSucceeded(
            page=page_ref(invoice.page),
            invoice=invoice_to_proto(invoice),
            checkout=f"{invoice.page.name}/checkouts/{invoice.checkout_id}" if invoice.checkout_id else "",
            subscription=f"{invoice.page.name}/subscriptions/{invoice.subscription_id}"
            if invoice.subscription_id
            else "",
            amount=money(invoice.total),
        )
        self._billing(event, invoice.name)
        total = f"{invoice.total.amount_minor / 100:.2f} {invoice.total.currency}"
        self._mail(contact_email, "billing_receipt", {"number": invoice.number, "total": total})

    def payment_failed(self, page: PageName, checkout: str, subscription: str, reason: str, contact_email: str) -> None:
        event = events_pb2.PaymentFailed(
            page=page_ref(page), checkout=checkout, subscription=subscription, failure_reason=reason
        )
        self._billing(event, checkout or subscription or page.name)
        self._mail(contact_email, "billing_payment_failed", {"reason": reason})

    def credits_granted(self, entry: LedgerEntry) -> None:
        event = events_pb2.CreditsGranted(
            page=page_ref(entry.page), ledger_entry=ledger_entry_to_proto(entry), balance=entry.balance_after
        )
        self._billing(event, entry.name)

    def subscription_changed(self, subscription: Subscription, previous: SubscriptionState | None) -> None:
        event = events_pb2.SubscriptionChanged(
            page=page_ref(subscription.page),
            subscription=subscription_to_proto(subscription),
            previous_state=int(previous) if previous else 0,  # type: ignore[arg-type]
        )
        self._billing(event, subscription.name)

    def entitlements_changed(self, entitlements: PageEntitlements, previous_plan_id: str) -> None:
        event = events_pb2.EntitlementsChanged(
            page=page_ref(entitlements.page),
            entitlements=page_entitlements_to_proto(entitlements),
            previous_plan=f"plans/{previous_plan_id}" if previous_plan_id else "",
        )
        self._billing(event, entitlements.name)

    def unlock_created(self, unlock: Unlock, balance: int) -> None:
        event = events_pb2.UnlockCreated(
            unlocker=page_ref(unlock.page), unlock=unlock_to_proto(unlock), balance=balance
        )
        self._outbox.add(topology.UNLOCK, UNLOCK_ROUTING_KEY, event, external_id=unlock.name)

    def _billing(self, event: Message, external_id: str) -> None:
        add_direct(self._outbox, topology.BILLING, event, external_id)

    def _mail(self, to_email: str, template: str, variables: dict[str, str]) -> None:
        request_mail(self._outbox, to_email, template, variables)

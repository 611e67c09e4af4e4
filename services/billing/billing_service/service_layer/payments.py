"""The payment provider's webhook: verify, deduplicate, then apply the event in one transaction.

Credits are granted and subscriptions started only here, when the provider confirms a payment.
The event id is recorded in the same transaction as its effects, so a redelivery or a replay
(within the signature's time window) changes nothing; a stale or unsigned body is refused first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from billing_service.domain import payment_events
from billing_service.domain.checkouts import Checkout, CheckoutState
from billing_service.domain.invoices import Invoice, InvoiceLine, InvoiceState
from billing_service.domain.ledger import LedgerEntry, LedgerEntryKind
from billing_service.domain.money import CurrencyMismatch, Money
from billing_service.domain.payment_events import EventType, PaymentEvent
from billing_service.domain.plans import Plan, add_interval, trial_end
from billing_service.domain.subscriptions import LIVE_STATES, Subscription, SubscriptionState
from billing_service.service_layer import credits, invoicing
from billing_service.service_layer.common import Clock, UowFactory
from billing_service.service_layer.entitlements import Entitlement
from billing_service.service_layer.ports import BillingUnitOfWork
from devinsider_common import errors
from devinsider_common.ids import new_id
from devinsider_common.pages.names import PageName
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import DuplicateRecord

log = structlog.get_logger("billing.payments")
PROVIDER = "payment-provider"


class PaymentWebhook:
    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        secret: str,
        tolerance: timedelta,
        tax_rate_bps: int,
        entitlement: Entitlement,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._secret = secret
        self._tolerance = int(tolerance.total_seconds())
        self._tax = tax_rate_bps
        self._entitlement = entitlement

    def receive(self, body: bytes, signature: str | None) -> bool:
        """Apply a signed event; False when it was applied before (nothing changes)."""
        now = self._clock()
        payment_events.verify(body, signature, self._secret, now, self._tolerance)
        event = payment_events.parse(body)
        try:
            with self._uow() as uow:
                if not uow.payment_events.record(event.id, event.type.value, now):
                    log.info("payment_event.duplicate", event_id=event.id)
                    return False
                _HANDLERS[event.type](self, uow, event, now)
                uow.commit()
        except DuplicateRecord as error:
            # A concurrent delivery (this event again, or another that started the page's one live
            # subscription) committed first: nothing of this one stayed; the provider's retry sees it.
            log.info("payment_event.concurrent", event_id=event.id)
            raise errors.Conflict(
                "a concurrent delivery changed the same records; retry", reason="CONCURRENT_UPDATE"
            ) from error
        log.info("payment_event.applied", event_id=event.id, type=event.type.value)
        return True

    # --- checkouts -------------------------------------------------------------------------
    def _open_checkout(self, uow: BillingUnitOfWork, event: PaymentEvent) -> Checkout | None:
        reference = event.text("checkout")
        checkout = uow.checkouts.by_provider_reference(reference, lock=True)
        if checkout is None:  # not committed yet, or not ours: the provider retries later
            raise errors.NotFound(f"no checkout with provider reference {reference}", reason="CHECKOUT_UNKNOWN")
        if checkout.state is not CheckoutState.OPEN:
            log.warning("payment_event.checkout_closed", checkout=checkout.name, state=checkout.state.name)
            return None
        return checkout

    def _fail_checkout(self, uow: BillingUnitOfWork, checkout: Checkout, reason: str, now: datetime) -> None:
        failed = checkout.failed(now, reason)
        uow.checkouts.save(failed)
        uow.events.payment_failed(checkout.page, checkout.name, "", reason, checkout.contact_email)

    def checkout_completed(self, uow: BillingUnitOfWork, event: PaymentEvent, now: datetime) -> None:
        checkout = self._open_checkout(uow, event)
        paid = event.money()
        payment = event.text("payment", required=False)
        if checkout is None:
            return
        plan = uow.plans.get(checkout.plan_id)
        if plan is None:
            raise errors.FailedPrecondition(f"plans/{checkout.plan_id} disappeared", reason="PLAN_UNKNOWN")
        trialing = plan.is_subscription and plan.trial_days > 0
        try:
            expected = Money(checkout.amount.currency, 0) if trialing else checkout.amount
            if not expected.matches(paid):
                self._fail_checkout(uow, checkout, f"paid {paid.amount_minor}, expected {expected.amount_minor}", now)
                return
        except CurrencyMismatch:
            self._fail_checkout(uow, checkout, f"paid in {paid.currency}, expected {checkout.amount.currency}", now)
            return
        subscription_id = ""
        if plan.is_subscription and uow.subscriptions.list_after(checkout.page, ListWindow(size=1), list(LIVE_STATES)):
            # Two subscription checkouts were open and both got paid: the second starts nothing
            # (the provider's payment is left for a refund, visible as a failed checkout).
            self._fail_checkout(uow, checkout, "the page already has a live subscription", now)
            return
        entry: LedgerEntry | None
        if plan.is_subscription:
            subscription = self._start_subscription(uow, checkout, plan, event, now)
            subscription_id = subscription.id
            entry = credits.grant_period(
                uow, subscription, plan.credits, now=now, description=plan.display_name, creator=PROVIDER
            )
        else:
            entry = credits.add_credits(
                uow,
                checkout.page,
                LedgerEntryKind.GRANT,
                plan.credits,
                now=now,
                description=plan.display_name,
                reference=checkout.name,
                creator=PROVIDER,
            )
        invoice_id = ""
        if paid.amount_minor > 0:
            invoice_id = self._invoice(
                uow,
                checkout.page,
                plan,
                now,
                entry,
                payment,
                event,
                checkout=checkout.id,
                subscription=subscription_id,
                contact_email=checkout.contact_email,
            ).id
        uow.checkouts.save(checkout.completed(now, invoice_id, subscription_id))

    def _start_subscription(
        self, uow: BillingUnitOfWork, checkout: Checkout, plan: Plan, event: PaymentEvent, now: datetime
    ) -> Subscription:
        trial = trial_end(now, plan)
        subscription = Subscription(
            id=new_id(),
            page=checkout.page,
            plan_id=plan.id,
            state=SubscriptionState.TRIALING if trial else SubscriptionState.ACTIVE,
            price=plan.price,
            current_period_start=now,
            current_period_end=trial or add_interval(now, plan.interval),
            created_at=now,
            updated_at=now,
            provider_reference=event.text("subscription"),
            contact_email=checkout.contact_email,
            trial_end=trial,
        )
        uow.subscriptions.add(subscription)
        uow.events.subscription_changed(subscription, None)
        self._entitlement.announce(uow, None, subscription)
        return subscription

    def _invoice(
        self,
        uow: BillingUnitOfWork,
        page: PageName,
        plan: Plan,
        now: datetime,
        entry: LedgerEntry | None,
        payment: str,
        event: PaymentEvent,
        *,
        checkout: str = "",
        subscription: str = "",
        contact_email: str = "",
    ) -> Invoice:
        return invoicing.issue_paid(
            uow,
            page,
            (InvoiceLine(plan.display_name, plan.id, 1, plan.price),),
            tax_rate_bps=self._tax,
            now=now,
            contact_email=contact_email,
            checkout_id=checkout,
            subscription_id=subscription,
            provider_reference=payment,
            receipt_url=event.text("receipt_url", required=False),
            credits_entry_id=entry.id if entry is not None else "",
        )

    def checkout_failed(self, uow: BillingUnitOfWork, event: PaymentEvent, now: datetime) -> None:
        checkout = self._open_checkout(uow, event)
        if checkout is not None:
            self._fail_checkout(uow, checkout, event.text("reason", required=False) or "payment refused", now)

    def checkout_expired(self, uow: BillingUnitOfWork, event: PaymentEvent, now: datetime) -> None:
        checkout = self._open_checkout(uow, event)
        if checkout is not None:
            uow.checkouts.save(checkout.expired(now))

    # --- subscriptions ---------------------------------------------------------------------
    def _subscription(self, uow: BillingUnitOfWork, event: PaymentEvent) -> Subscription:
        reference = event.text("subscription")
        subscription = uow.subscriptions.by_provider_reference(reference, lock=True)
        if subscription is None:
            raise errors.NotFound(f"no subscription with provider reference {reference}", reason="SUBSCRIPTION_UNKNOWN")
        return subscription

    def subscription_renewed(self, uow: BillingUnitOfWork, event: PaymentEvent, now: datetime) -> None:
        subscription = self._subscription(uow, event)
        start = event.time("period_start") if "period_start" in event.data else subscription.current_period_end
        # A period after the current one starts on the scheduled plan (a downgrade, another interval).
        plan_id = subscription.scheduled_plan_id if subscription.switches_at(start) else subscription.plan_id
        plan = uow.plans.get(plan_id)
        if plan is None or not subscription.state.live:
            log.warning("payment_event.renewal_ignored", subscription=subscription.name, state=subscription.state.name)
            return
        price = plan.price if plan_id != subscription.plan_id else subscription.price
        paid = event.money()
        expected = price + price.tax(self._tax)
        try:
            matches = expected.matches(paid)
        except CurrencyMismatch:
            matches = False
        if not matches:
            reason = (
                f"renewal paid {paid.amount_minor} {paid.currency}, "
                f"expected {expected.amount_minor} {expected.currency}"
            )
            self._past_due(uow, subscription, reason, now)
            return
        end = event.time("period_end") if "period_end" in event.data else add_interval(start, plan.interval)
        renewed = subscription.renewed(start, end, now, price=price)
        uow.subscriptions.save(renewed)
        if renewed.state is not subscription.state or renewed.plan_id != subscription.plan_id:
            uow.events.subscription_changed(renewed, subscription.state)
        self._entitlement.announce(uow, subscription, renewed)
        entry = credits.grant_period(
            uow, renewed, plan.credits, now=now, description=f"{plan.display_name}, renewal", creator=PROVIDER
        )
        self._invoice(
            uow,
            subscription.page,
            plan,
            now,
            entry,
            event.text("payment"),
            event,
            subscription=subscription.id,
            contact_email=subscription.contact_email,
        )

    def _past_due(self, uow: BillingUnitOfWork, subscription: Subscription, reason: str, now: datetime) -> None:
        changed = subscription.payment_failed(now)
        uow.subscriptions.save(changed)
        if changed.state is not subscription.state:
            uow.events.subscription_changed(changed, subscription.state)
        uow.events.payment_failed(subscription.page, "", subscription.name, reason, subscription.contact_email)

    def subscription_payment_failed(self, uow: BillingUnitOfWork, event: PaymentEvent, now: datetime) -> None:
        subscription = self._subscription(uow, event)
        if subscription.state.live:
            self._past_due(uow, subscription, event.text("reason", required=False) or "payment refused", now)

    def subscription_canceled(self, uow: BillingUnitOfWork, event: PaymentEvent, now: datetime) -> None:
        subscription = self._subscription(uow, event)
        if subscription.state.live:
            changed = subscription.canceled(now, immediately=True, reason="canceled at the provider")
            uow.subscriptions.save(changed)
            uow.events.subscription_changed(changed, subscription.state)
            self._entitlement.announce(uow, subscription, changed)

    # --- refunds ---------------------------------------------------------------------------
    def payment_refunded(self, uow: BillingUnitOfWork, event: PaymentEvent, now: datetime) -> None:
        payment = event.text("payment")
        invoice = uow.invoices.by_provider_reference(payment, lock=True)
        if invoice is None:
            raise errors.NotFound(f"no invoice paid by {payment}", reason="PAYMENT_UNKNOWN")
        refunded = event.money()
        if refunded.currency != invoice.total.currency:
            raise CurrencyMismatch(
                f"refund in {refunded.currency} of an invoice in {invoice.total.currency}", reason="CURRENCY_MISMATCH"
            )
        if invoice.state is not InvoiceState.PAID:
            return
        uow.invoices.save(invoice.refunded())
        if invoice.credits_entry_id:
            credits.withdraw_lot(
                uow,
                invoice.page,
                invoice.credits_entry_id,
                now=now,
                description=f"payment refunded ({invoice.number})",
                reference=invoice.name,
                creator=PROVIDER,
            )


_HANDLERS = {
    EventType.CHECKOUT_COMPLETED: PaymentWebhook.checkout_completed,
    EventType.CHECKOUT_FAILED: PaymentWebhook.checkout_failed,
    EventType.CHECKOUT_EXPIRED: PaymentWebhook.checkout_expired,
    EventType.SUBSCRIPTION_RENEWED: PaymentWebhook.subscription_renewed,
    EventType.SUBSCRIPTION_PAYMENT_FAILED: PaymentWebhook.subscription_payment_failed,
    EventType.SUBSCRIPTION_CANCELED: PaymentWebhook.subscription_canceled,
    EventType.PAYMENT_REFUNDED: PaymentWebhook.payment_refunded,
}

"""ChangeSubscriptionPlan: an upgrade now (prorated charge, extra credits), anything else at the period end.

The rules are `domain.plan_changes`. Here: they are checked on a read-only unit of work first (a refusal
takes no lock), then again on the subscription's row held until the commit, and the payment provider is
asked while it is held, so two changes of one subscription never both charge. The provider's idempotency
key of an upgrade names the subscription, its period and the new plan (an upgrade to a plan happens at
most once a period: nothing goes back down before the period ends), so a retry after a failed commit is
not charged again; the credits are granted under a ledger request id of the same parts.
"""

from __future__ import annotations

from billing_service.domain import plan_changes as rules
from billing_service.domain.invoices import InvoiceLine
from billing_service.domain.plan_changes import ChangeKind, PlanChange, PlanChangeDecision
from billing_service.domain.plans import Plan
from billing_service.domain.subscriptions import Subscription
from billing_service.service_layer import credits, invoicing
from billing_service.service_layer.common import Clock, UowFactory
from billing_service.service_layer.entitlements import Entitlement
from billing_service.service_layer.ports import (
    BillingUnitOfWork,
    PaymentProvider,
    ProviderCharge,
    SubscriptionChange,
)
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.authorization import PageAuthorizer
from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PagePermission


class PlanChangeUseCases:
    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        authorizer: PageAuthorizer,
        provider: PaymentProvider,
        entitlement: Entitlement,
        tax_rate_bps: int,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._auth = authorizer
        self._provider = provider
        self._entitlement = entitlement
        self._tax = tax_rate_bps

    def change(
        self, principal: Principal, page: PageName, subscription_id: str, plan_id: str, request_id: str
    ) -> Subscription:
        """Members with MANAGE_BILLING only, as for buying; idempotent by `request_id`."""
        self._auth.require(principal, page, PagePermission.MANAGE_BILLING, staff=False)
        with self._uow(read_only=True) as uow:
            done = self._replayed(uow, page, request_id)
            if done is not None:
                return done
            self._decide(uow, self._subscription(uow, page, subscription_id), plan_id)
        creator = self._auth.creator(principal)  # before the transaction: it may ask the user service
        with self._uow() as uow:
            done = self._replayed(uow, page, request_id)
            if done is not None:  # a twin with the same request id committed while this one read
                return done
            before = self._subscription(uow, page, subscription_id, lock=True)
            current, decision = self._decide(uow, before, plan_id)
            charge = self._provider.change_subscription(self._provider_change(before, decision))
            changed, invoice_id = self._apply(uow, before, current, decision, charge, creator)
            uow.plan_changes.add(
                PlanChange(
                    id=new_id(),
                    page=page,
                    subscription_id=before.id,
                    from_plan_id=before.plan_id,
                    to_plan_id=decision.target.id,
                    kind=decision.kind,
                    effective_time=decision.effective_time,
                    creator=creator,
                    created_at=changed.updated_at,
                    invoice_id=invoice_id,
                    request_id=request_id or None,
                )
            )
            uow.commit()
        return changed

    @staticmethod
    def _replayed(uow: BillingUnitOfWork, page: PageName, request_id: str) -> Subscription | None:
        """The subscription a change with this request id was asked of, as it is now."""
        done = uow.plan_changes.by_request(page, request_id) if request_id else None
        return uow.subscriptions.get(page, done.subscription_id) if done is not None else None

    @staticmethod
    def _subscription(uow: BillingUnitOfWork, page: PageName, subscription_id: str, lock: bool = False) -> Subscription:
        found = uow.subscriptions.get(page, subscription_id, lock=lock)
        if found is None:
            raise errors.NotFound(f"{page.name}/subscriptions/{subscription_id} does not exist")
        return found

    def _decide(
        self, uow: BillingUnitOfWork, subscription: Subscription, plan_id: str
    ) -> tuple[Plan, PlanChangeDecision]:
        current = uow.plans.get(subscription.plan_id)
        if current is None:
            raise errors.FailedPrecondition(f"plans/{subscription.plan_id} disappeared", reason="PLAN_UNKNOWN")
        return current, rules.decide(subscription, current, uow.plans.get(plan_id), plan_id, self._clock())

    def _provider_change(self, subscription: Subscription, decision: PlanChangeDecision) -> SubscriptionChange:
        """The recurring price from now on (an upgrade) or from the next period, and an upgrade's charge."""
        target = decision.target
        upgrade = decision.kind is ChangeKind.UPGRADE
        recurring = target.price if decision.kind is not ChangeKind.UNSCHEDULED else subscription.price
        charge = decision.charge + decision.charge.tax(self._tax)
        return SubscriptionChange(
            reference=subscription.provider_reference,
            # Upgrades: a key a retry finds again (see the module's docstring); other changes charge nothing.
            idempotency_key=credits.upgrade_key(subscription, target.id) if upgrade else new_id(),
            description=f"{target.display_name} (from {subscription.plan_id})",
            amount=recurring + recurring.tax(self._tax),
            interval=target.interval,
            at_period_end=not upgrade,
            charge=charge if upgrade and charge.amount_minor > 0 else None,
        )

    def _apply(
        self,
        uow: BillingUnitOfWork,
        before: Subscription,
        current: Plan,
        decision: PlanChangeDecision,
        charge: ProviderCharge | None,
        creator: str,
    ) -> tuple[Subscription, str]:
        """The subscription changed, its events, an upgrade's credits and invoice (its id, or "")."""
        now, target = self._clock(), decision.target
        invoice_id = ""
        if decision.kind is ChangeKind.UPGRADE:
            changed = before.upgraded(target.id, target.price, now)
            entry = credits.grant_once(
                uow,
                before.page,
                decision.extra_credits,
                credits.upgrade_key(before, target.id),
                now=now,
                description=f"{target.display_name}, upgrade from {current.display_name}",
                reference=before.name,
                creator=creator,
            )
            if charge is not None:
                line = InvoiceLine(
                    f"{target.display_name}, upgrade from {current.display_name}, prorated to "
                    f"{before.current_period_end:%Y-%m-%d}",
                    target.id,
                    1,
                    decision.charge,
                )
                invoice_id = invoicing.issue_paid(
                    uow,
                    before.page,
                    (line,),
                    tax_rate_bps=self._tax,
                    now=now,
                    contact_email=before.contact_email,
                    subscription_id=before.id,
                    provider_reference=charge.payment,
                    receipt_url=charge.receipt_url,
                    credits_entry_id=entry.id if entry is not None else "",
                ).id
        else:
            changed = before.scheduled(target.id, now)
        uow.subscriptions.save(changed)
        uow.events.subscription_changed(changed, before.state)
        self._entitlement.announce(uow, before, changed)
        return changed, invoice_id

"""Use cases of the catalogue, checkouts and invoices."""

from __future__ import annotations

from datetime import timedelta

from billing_service.domain.checkouts import Checkout, ReturnOrigins
from billing_service.domain.invoices import Invoice, InvoiceState
from billing_service.domain.plans import Interval, Plan, PlanKind, plan_position
from billing_service.domain.subscriptions import LIVE_STATES
from billing_service.service_layer.common import Clock, UowFactory
from billing_service.service_layer.ports import CheckoutRequest, PaymentProvider
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.authorization import PageAuthorizer
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pagination import ListLimits, ListWindow, finish_window, list_window
from devinsider_common.unit_of_work import create_once


class CatalogueUseCases:
    def __init__(self, uow: UowFactory, limits: ListLimits) -> None:
        self._uow = uow
        self._limits = limits

    def get_plan(self, plan_id: str) -> Plan:
        with self._uow(read_only=True) as uow:
            plan = uow.plans.get(plan_id)
        if plan is None:
            raise errors.NotFound(f"plans/{plan_id} does not exist")
        return plan

    def list_plans(
        self, page_size: int, page_token: str, page_kind: PageKind | None, kind: PlanKind | None, show_inactive: bool
    ) -> tuple[list[Plan], str]:
        filters = {"page_kind": page_kind, "kind": kind, "show_inactive": show_inactive}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            found = uow.plans.list_after(window, page_kind, kind, show_inactive)
        return finish_window(window, found, plan_position)


class CheckoutUseCases:
    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        authorizer: PageAuthorizer,
        provider: PaymentProvider,
        *,
        allowed_origins: list[str],
        ttl: timedelta,
        tax_rate_bps: int,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._auth = authorizer
        self._provider = provider
        self._origins = ReturnOrigins.from_config(allowed_origins)
        self._ttl = ttl
        self._tax = tax_rate_bps

    def create(
        self, principal: Principal, page: PageName, plan_id: str, success_url: str, cancel_url: str, request_id: str
    ) -> Checkout:
        self._auth.require(principal, page, PagePermission.MANAGE_BILLING, staff=False)
        violations = errors.Violations()
        self._origins.check(violations, "checkout.success_url", success_url, required=True)
        self._origins.check(violations, "checkout.cancel_url", cancel_url, required=False)
        violations.raise_if_any()
        with self._uow(read_only=True) as uow:
            if request_id and (existing := uow.checkouts.by_request(page, request_id)) is not None:
                return existing
            plan = uow.plans.get(plan_id)
            if plan is None or not plan.active:
                raise errors.InvalidArgument.for_field("checkout.plan", f"plans/{plan_id} is not on sale")
            if plan.page_kind is not page.kind:
                raise errors.InvalidArgument.for_field(
                    "checkout.plan", f"plans/{plan_id} is not sold to {page.kind.label} pages"
                )
            if plan.is_subscription:
                live = uow.subscriptions.list_after(page, ListWindow(size=1), list(LIVE_STATES))
                if live:
                    raise errors.FailedPrecondition(
                        "the page already has a live subscription", reason="ALREADY_SUBSCRIBED"
                    )
        now = self._clock()
        checkout = Checkout(
            id=new_id(),
            page=page,
            plan_id=plan.id,
            success_url=success_url,
            cancel_url=cancel_url,
            amount=plan.price + plan.price.tax(self._tax),
            creator=self._auth.creator(principal),
            created_at=now,
            expire_time=now + self._ttl,
            contact_email=principal.email,
            request_id=request_id or None,
        )
        session = self._provider.create_checkout(
            CheckoutRequest(
                reference=checkout.name,
                description=plan.display_name,
                amount=checkout.amount,
                subscription_interval=plan.interval if plan.is_subscription else Interval.NONE,
                trial_days=plan.trial_days,
                success_url=success_url,
                cancel_url=cancel_url or success_url,
                expire_time=checkout.expire_time,
                customer_email=principal.email,
            )
        )
        checkout = Checkout(
            **{**checkout.__dict__, "provider_reference": session.reference, "checkout_url": session.url}
        )

        def write() -> Checkout:
            with self._uow() as uow:
                uow.checkouts.add(checkout)
                uow.commit()
            return checkout

        def twin() -> Checkout | None:  # the same request_id raced us: answer with the winner
            if not request_id:
                return None
            with self._uow(read_only=True) as uow:
                return uow.checkouts.by_request(page, request_id)

        return create_once(write, twin)

    def get(self, principal: Principal, page: PageName, checkout_id: str) -> Checkout:
        self._auth.require(principal, page, PagePermission.MANAGE_BILLING)
        with self._uow(read_only=True) as uow:
            checkout = uow.checkouts.get(page, checkout_id)
        if checkout is None:
            raise errors.NotFound(f"{page.name}/checkouts/{checkout_id} does not exist")
        return checkout


class InvoiceUseCases:
    def __init__(self, uow: UowFactory, authorizer: PageAuthorizer, limits: ListLimits) -> None:
        self._uow = uow
        self._auth = authorizer
        self._limits = limits

    def get(self, principal: Principal, page: PageName, invoice_id: str) -> Invoice:
        self._auth.require(principal, page, PagePermission.MANAGE_BILLING)
        with self._uow(read_only=True) as uow:
            invoice = uow.invoices.get(page, invoice_id)
        if invoice is None:
            raise errors.NotFound(f"{page.name}/invoices/{invoice_id} does not exist")
        return invoice

    def list_invoices(
        self, principal: Principal, page: PageName, page_size: int, page_token: str, state: InvoiceState | None
    ) -> tuple[list[Invoice], str]:
        self._auth.require(principal, page, PagePermission.MANAGE_BILLING)
        filters = {"parent": page.name, "state": state}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            found = uow.invoices.list_after(page, window, state)
        return finish_window(window, found)

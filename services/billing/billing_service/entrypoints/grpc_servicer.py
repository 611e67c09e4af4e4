"""BillingService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

from datetime import UTC

import grpc
from google.protobuf import empty_pb2

from billing_service.adapters import proto_mapping as mapping
from billing_service.domain.invoices import InvoiceState
from billing_service.domain.ledger import LedgerEntryKind
from billing_service.domain.plans import PlanKind
from billing_service.domain.subscriptions import SubscriptionState
from billing_service.service_layer.app import BillingApp
from billing_service.service_layer.unlocks import HAS_UNLOCKED_TTL_SECONDS
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common import errors
from devinsider_common.grpc.requests import caller, idempotency_key, optional_enum, repeated_enum, required_enum
from devinsider_common.pages.names import PageKind, parse_child, parse_id, parse_page, parse_singleton

SIGNATURE_HEADER = "x-payment-signature"


class BillingServicer(billing_pb2_grpc.BillingServiceServicer):
    def __init__(self, app: BillingApp) -> None:
        self._app = app

    def ListPlans(
        self, request: billing_pb2.ListPlansRequest, context: grpc.ServicerContext
    ) -> billing_pb2.ListPlansResponse:
        page_kind = optional_enum(PageKind, request.page_kind, "page_kind")
        kind = optional_enum(PlanKind, request.kind, "kind")
        plans, token = self._app.catalogue.list_plans(
            request.page_size, request.page_token, page_kind, kind, request.show_inactive
        )
        return billing_pb2.ListPlansResponse(plans=[mapping.plan_to_proto(p) for p in plans], next_page_token=token)

    def GetPlan(self, request: billing_pb2.GetPlanRequest, context: grpc.ServicerContext) -> billing_pb2.Plan:
        return mapping.plan_to_proto(self._app.catalogue.get_plan(parse_id(request.name, "plans")))

    def ListSubscriptions(
        self, request: billing_pb2.ListSubscriptionsRequest, context: grpc.ServicerContext
    ) -> billing_pb2.ListSubscriptionsResponse:
        page = parse_page(request.parent, "parent")
        states = list(repeated_enum(SubscriptionState, request.states, "states"))
        items, token = self._app.subscriptions.list_subscriptions(
            caller(), page, request.page_size, request.page_token, states
        )
        return billing_pb2.ListSubscriptionsResponse(
            subscriptions=[mapping.subscription_to_proto(s) for s in items], next_page_token=token
        )

    def GetSubscription(
        self, request: billing_pb2.GetSubscriptionRequest, context: grpc.ServicerContext
    ) -> billing_pb2.Subscription:
        page, subscription_id = parse_child(request.name, "subscriptions")
        return mapping.subscription_to_proto(self._app.subscriptions.get(caller(), page, subscription_id))

    def CancelSubscription(
        self, request: billing_pb2.CancelSubscriptionRequest, context: grpc.ServicerContext
    ) -> billing_pb2.Subscription:
        page, subscription_id = parse_child(request.name, "subscriptions")
        canceled = self._app.subscriptions.cancel(caller(), page, subscription_id, request.immediately, request.reason)
        return mapping.subscription_to_proto(canceled)

    def ChangeSubscriptionPlan(
        self, request: billing_pb2.ChangeSubscriptionPlanRequest, context: grpc.ServicerContext
    ) -> billing_pb2.Subscription:
        page, subscription_id = parse_child(request.name, "subscriptions")
        plan_id = parse_id(request.plan, "plans", "plan")
        changed = self._app.plan_changes.change(
            caller(), page, subscription_id, plan_id, idempotency_key(request.request_id)
        )
        return mapping.subscription_to_proto(changed)

    def GetEntitlements(
        self, request: billing_pb2.GetEntitlementsRequest, context: grpc.ServicerContext
    ) -> billing_pb2.PageEntitlements:
        page = parse_singleton(request.name, "entitlements")
        return mapping.page_entitlements_to_proto(self._app.entitlements.get(caller(), page))

    def CreateCheckout(
        self, request: billing_pb2.CreateCheckoutRequest, context: grpc.ServicerContext
    ) -> billing_pb2.Checkout:
        page = parse_page(request.parent, "parent")
        c = request.checkout
        plan_id = parse_id(c.plan, "plans", "checkout.plan")
        checkout = self._app.checkouts.create(
            caller(), page, plan_id, c.success_url, c.cancel_url, idempotency_key(request.request_id)
        )
        return mapping.checkout_to_proto(checkout)

    def GetCheckout(
        self, request: billing_pb2.GetCheckoutRequest, context: grpc.ServicerContext
    ) -> billing_pb2.Checkout:
        page, checkout_id = parse_child(request.name, "checkouts")
        return mapping.checkout_to_proto(self._app.checkouts.get(caller(), page, checkout_id))

    def GetCreditBalance(
        self, request: billing_pb2.GetCreditBalanceRequest, context: grpc.ServicerContext
    ) -> billing_pb2.CreditBalance:
        page = parse_singleton(request.name, "creditBalance")
        balance = self._app.ledger.balance(caller(), page)
        return billing_pb2.CreditBalance(
            name=f"{page.name}/creditBalance",
            balance=balance.balance,
            expiring_soon=balance.expiring_soon,
            last_ledger_entry=f"{page.name}/ledgerEntries/{balance.last_entry_id}" if balance.last_entry_id else "",
            update_time=mapping.timestamp(balance.updated_at),
        )

    def ListLedgerEntries(
        self, request: billing_pb2.ListLedgerEntriesRequest, context: grpc.ServicerContext
    ) -> billing_pb2.ListLedgerEntriesResponse:
        page = parse_page(request.parent, "parent")
        kind = optional_enum(LedgerEntryKind, request.kind, "kind")
        items, token = self._app.ledger.list_ledger_entries(caller(), page, request.page_size, request.page_token, kind)
        return billing_pb2.ListLedgerEntriesResponse(
            ledger_entries=[mapping.ledger_entry_to_proto(e) for e in items], next_page_token=token
        )

    def CreateLedgerEntry(
        self, request: billing_pb2.CreateLedgerEntryRequest, context: grpc.ServicerContext
    ) -> billing_pb2.LedgerEntry:
        page = parse_page(request.parent, "parent")
        e = request.ledger_entry
        kind = required_enum(LedgerEntryKind, e.kind, "ledger_entry.kind")
        expire_time = e.expire_time.ToDatetime(tzinfo=UTC) if e.HasField("expire_time") else None
        entry = self._app.ledger.create(
            caller(),
            page,
            kind,
            e.credits,
            e.description,
            expire_time,
            idempotency_key(request.request_id),
        )
        return mapping.ledger_entry_to_proto(entry)

    def CreateUnlock(
        self, request: billing_pb2.CreateUnlockRequest, context: grpc.ServicerContext
    ) -> billing_pb2.Unlock:
        page = parse_page(request.parent, "parent")
        target = parse_page(request.unlock.target.name, "unlock.target.name")
        if request.unlock.target.kind and int(request.unlock.target.kind) != target.kind.value:
            raise errors.InvalidArgument.for_field("unlock.target.kind", "does not match the target's name")
        return mapping.unlock_to_proto(
            self._app.unlocks.create(caller(), page, target, idempotency_key(request.request_id))
        )

    def GetUnlock(self, request: billing_pb2.GetUnlockRequest, context: grpc.ServicerContext) -> billing_pb2.Unlock:
        page, unlock_id = parse_child(request.name, "unlocks")
        return mapping.unlock_to_proto(self._app.unlocks.get(caller(), page, unlock_id))

    def ListUnlocks(
        self, request: billing_pb2.ListUnlocksRequest, context: grpc.ServicerContext
    ) -> billing_pb2.ListUnlocksResponse:
        page = parse_page(request.parent, "parent")
        target_kind = optional_enum(PageKind, request.target_kind, "target_kind")
        items, token = self._app.unlocks.list_unlocks(
            caller(), page, request.page_size, request.page_token, target_kind
        )
        return billing_pb2.ListUnlocksResponse(
            unlocks=[mapping.unlock_to_proto(u) for u in items], next_page_token=token
        )

    def ListInvoices(
        self, request: billing_pb2.ListInvoicesRequest, context: grpc.ServicerContext
    ) -> billing_pb2.ListInvoicesResponse:
        page = parse_page(request.parent, "parent")
        state = optional_enum(InvoiceState, request.state, "state")
        items, token = self._app.invoices.list_invoices(caller(), page, request.page_size, request.page_token, state)
        return billing_pb2.ListInvoicesResponse(
            invoices=[mapping.invoice_to_proto(i) for i in items], next_page_token=token
        )

    def GetInvoice(self, request: billing_pb2.GetInvoiceRequest, context: grpc.ServicerContext) -> billing_pb2.Invoice:
        page, invoice_id = parse_child(request.name, "invoices")
        return mapping.invoice_to_proto(self._app.invoices.get(caller(), page, invoice_id))

    def ReceivePaymentEvent(
        self, request: billing_pb2.ReceivePaymentEventRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        headers = {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}
        self._app.payments.receive(request.body.data, headers.get(SIGNATURE_HEADER))
        return empty_pb2.Empty()

    def HasUnlocked(
        self, request: billing_pb2.HasUnlockedRequest, context: grpc.ServicerContext
    ) -> billing_pb2.HasUnlockedResponse:
        target = parse_page(request.target, "target")
        viewer = request.WhichOneof("viewer")
        if viewer == "unlocker":
            unlockers = self._app.unlocks.has_unlocked(target, unlocker=parse_page(request.unlocker, "unlocker"))
        elif viewer == "subject" and request.subject:
            unlockers = self._app.unlocks.has_unlocked(target, subject=request.subject)
        else:
            raise errors.InvalidArgument.for_field("viewer", "give the viewer's subject or an unlocker page")
        return billing_pb2.HasUnlockedResponse(
            unlocked=bool(unlockers), unlockers=unlockers, cache_ttl_seconds=HAS_UNLOCKED_TTL_SECONDS
        )

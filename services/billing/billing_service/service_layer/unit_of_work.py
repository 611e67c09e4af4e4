"""The billing service's SQL unit of work: its repositories and its outbox on one transaction.

The one module of the service layer that knows SQLAlchemy and the adapters; the use cases see it
as `ports.BillingUnitOfWork`.
"""

from __future__ import annotations

from sqlalchemy import Connection

from billing_service.adapters.catalogue_repository import (
    CheckoutRepository,
    PlanChangeRepository,
    PlanRepository,
    SubscriptionRepository,
)
from billing_service.adapters.event_publisher import BillingEventPublisher
from billing_service.adapters.invoice_repository import InvoiceRepository, PaymentEventLog
from billing_service.adapters.ledger_repository import LedgerRepository, UnlockRepository
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.writer import OutboxWriter

SOURCE = "billing"


class SqlBillingUnitOfWork(SqlUnitOfWork):
    plans: PlanRepository
    subscriptions: SubscriptionRepository
    plan_changes: PlanChangeRepository
    checkouts: CheckoutRepository
    ledger: LedgerRepository
    unlocks: UnlockRepository
    invoices: InvoiceRepository
    payment_events: PaymentEventLog
    events: BillingEventPublisher

    def _open_repositories(self, connection: Connection) -> None:
        self.plans = PlanRepository(connection)
        self.subscriptions = SubscriptionRepository(connection)
        self.plan_changes = PlanChangeRepository(connection)
        self.checkouts = CheckoutRepository(connection)
        self.ledger = LedgerRepository(connection)
        self.unlocks = UnlockRepository(connection)
        self.invoices = InvoiceRepository(connection)
        self.payment_events = PaymentEventLog(connection)
        self.events = BillingEventPublisher(OutboxWriter(connection, SOURCE))

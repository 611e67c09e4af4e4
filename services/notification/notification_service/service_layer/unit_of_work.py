"""The notification service's SQL unit of work: its stores, its mail outbox and its inbox on one
transaction. The one module of the service layer that knows SQLAlchemy and the adapters; the use cases
see it as `ports.NotificationUnitOfWork`."""

from __future__ import annotations

from sqlalchemy import Connection

from devinsider_common.consumer import SqlInbox
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.writer import OutboxWriter
from notification_service.adapters.mail_outbox import OutboxMail
from notification_service.adapters.notification_repository import (
    DeliveryRepository,
    DigestRepository,
    NotificationRepository,
)
from notification_service.adapters.preference_repository import PreferenceRepository
from notification_service.adapters.projection_repository import (
    KnownUserRepository,
    MembershipRepository,
    PageTitleRepository,
)

SOURCE = "notification"


class SqlNotificationUnitOfWork(SqlUnitOfWork):
    memberships: MembershipRepository
    users: KnownUserRepository
    pages: PageTitleRepository
    notifications: NotificationRepository
    deliveries: DeliveryRepository
    digests: DigestRepository
    preferences: PreferenceRepository
    mail: OutboxMail
    inbox: SqlInbox

    def _open_repositories(self, connection: Connection) -> None:
        self.memberships = MembershipRepository(connection)
        self.users = KnownUserRepository(connection)
        self.pages = PageTitleRepository(connection)
        self.notifications = NotificationRepository(connection)
        self.deliveries = DeliveryRepository(connection)
        self.digests = DigestRepository(connection)
        self.preferences = PreferenceRepository(connection)
        self.mail = OutboxMail(OutboxWriter(connection, SOURCE))
        self.inbox = SqlInbox(connection)

"""The user service's SQL unit of work: its repositories and its outbox on one transaction.

The one module of the service layer that knows SQLAlchemy and the adapters; the use cases see it
as `ports.UserUnitOfWork`.
"""

from __future__ import annotations

from sqlalchemy import Connection

from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.writer import OutboxWriter
from user_service.adapters.event_publisher import UserEventPublisher
from user_service.adapters.request_repositories import (
    BlacklistRepository,
    KeycloakEventLog,
    ProVerificationRepository,
    SupportRequestRepository,
)
from user_service.adapters.user_repository import UserRepository

SOURCE = "user"


class SqlUserUnitOfWork(SqlUnitOfWork):
    users: UserRepository
    pro_verifications: ProVerificationRepository
    support_requests: SupportRequestRepository
    blacklist: BlacklistRepository
    keycloak_events: KeycloakEventLog
    events: UserEventPublisher

    def _open_repositories(self, connection: Connection) -> None:
        self.users = UserRepository(connection)
        self.pro_verifications = ProVerificationRepository(connection)
        self.support_requests = SupportRequestRepository(connection)
        self.blacklist = BlacklistRepository(connection)
        self.keycloak_events = KeycloakEventLog(connection)
        self.events = UserEventPublisher(OutboxWriter(connection, SOURCE))

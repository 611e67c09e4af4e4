"""The contact service's SQL unit of work: its repositories, inbox and outbox on one transaction.

The one module of the service layer that knows SQLAlchemy and the adapters; the use cases see it
as `ports.ContactUnitOfWork`, the shared unlock projector as `pages.unlocks.UnlockUnitOfWork`.
"""

from __future__ import annotations

from sqlalchemy import Connection

from contact_service.adapters.conversation_repository import (
    ConversationRepository,
    MessageRepository,
    ReadMarkRepository,
)
from contact_service.adapters.event_publisher import ContactEventPublisher
from contact_service.adapters.request_repository import RequestRepository
from contact_service.adapters.unlock_repository import PageUnlockRepository
from devinsider_common.consumer import SqlInbox
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.writer import OutboxWriter

SOURCE = "contact"


class SqlContactUnitOfWork(SqlUnitOfWork):
    requests: RequestRepository
    conversations: ConversationRepository
    messages: MessageRepository
    read_marks: ReadMarkRepository
    unlocks: PageUnlockRepository
    inbox: SqlInbox
    events: ContactEventPublisher

    def _open_repositories(self, connection: Connection) -> None:
        self.requests = RequestRepository(connection)
        self.conversations = ConversationRepository(connection)
        self.messages = MessageRepository(connection)
        self.read_marks = ReadMarkRepository(connection)
        self.unlocks = PageUnlockRepository(connection)
        self.inbox = SqlInbox(connection)
        self.events = ContactEventPublisher(OutboxWriter(connection, SOURCE))

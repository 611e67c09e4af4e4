"""The matching service's SQL unit of work: its repositories, its outbox and its inbox on
one transaction.

The one module of the service layer that knows SQLAlchemy and the adapters; the use cases know its
Protocol (`ports.MatchingUnitOfWork`)."""

from __future__ import annotations

from sqlalchemy import Connection

from devinsider_common.consumer import SqlInbox
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.writer import OutboxWriter
from matching_service.adapters.event_publisher import MatchingEventPublisher
from matching_service.adapters.profile_repository import ChangeLog, PageStatusRepository, ProfileRepository
from matching_service.adapters.social_repository import (
    BlockRepository,
    FavoriteRepository,
    NotifiedMatches,
    PendingAnnouncements,
    hidden_and_favorites,
)
from matching_service.adapters.taxonomy_repository import TaxonomyRepository

SOURCE = "matching"


class SqlMatchingUnitOfWork(SqlUnitOfWork):
    taxonomy: TaxonomyRepository
    profiles: ProfileRepository
    statuses: PageStatusRepository
    changes: ChangeLog
    favorites: FavoriteRepository
    blocks: BlockRepository
    notified: NotifiedMatches
    announcements: PendingAnnouncements
    events: MatchingEventPublisher
    inbox: SqlInbox

    def _open_repositories(self, connection: Connection) -> None:
        self.taxonomy = TaxonomyRepository(connection)
        self.profiles = ProfileRepository(connection)
        self.statuses = PageStatusRepository(connection)
        self.changes = ChangeLog(connection)
        self.favorites = FavoriteRepository(connection)
        self.blocks = BlockRepository(connection)
        self.notified = NotifiedMatches(connection)
        self.announcements = PendingAnnouncements(connection)
        self.events = MatchingEventPublisher(OutboxWriter(connection, SOURCE))
        self.inbox = SqlInbox(connection)

    def hidden_and_favorites(self, page: str) -> tuple[set[str], set[str]]:
        return hidden_and_favorites(self.connection, page)

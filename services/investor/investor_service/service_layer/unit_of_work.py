"""The investor service's SQL unit of work: pages, members, invitations and the outbox on one
transaction; the one module of the service layer that knows SQLAlchemy and the adapters.

It satisfies `ports.InvestorUnitOfWork` (and so the shared pages' MembershipUnitOfWork): the shared
member and invitation use cases run on the same transaction as this service's own. A unique key
met raises `DuplicateRecord` (devinsider_common.db.uow), never SQLAlchemy's IntegrityError.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from devinsider_common.consumer import SqlInbox
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.writer import OutboxWriter
from devinsider_common.pages.orphans import PageOrphanMarks
from devinsider_common.pages.ports import MembershipEvents
from devinsider_common.pages.repositories import InvitationRepository, MemberRepository
from devinsider_common.pages.roles import PageRole
from devinsider_common.pages.unlocks import SqlUnlockStore
from investor_service.adapters.event_publisher import InvestorEventPublisher
from investor_service.adapters.investor_repository import InvestorRepository
from investor_service.adapters.tables import PAGE_TABLES, PAGE_UNLOCKS
from investor_service.domain.model import Investor

SOURCE = "investor"


class SqlInvestorUnitOfWork(SqlUnitOfWork):
    investors: InvestorRepository
    members: MemberRepository
    invitations: InvitationRepository
    events: InvestorEventPublisher
    membership_events: MembershipEvents
    inbox: SqlInbox
    unlocks: SqlUnlockStore
    orphans: PageOrphanMarks[Investor]

    def __init__(self, engine: Engine, accept_url: str = "", read_only: bool = False) -> None:
        super().__init__(engine, read_only)
        self._accept_url = accept_url

    def _open_repositories(self, connection: Connection) -> None:
        self.investors = InvestorRepository(connection)
        self.members = MemberRepository(connection, PAGE_TABLES)
        self.invitations = InvitationRepository(connection, PAGE_TABLES)
        self.events = InvestorEventPublisher(OutboxWriter(connection, SOURCE), self._accept_url)
        self.membership_events = self.events
        self.orphans = PageOrphanMarks(self.investors.get, self.investors.save, self.events.investor_updated)
        self.inbox = SqlInbox(connection)
        self.unlocks = SqlUnlockStore(connection, PAGE_UNLOCKS)

    def page_title(self, page_id: str) -> str | None:
        return self.investors.title(page_id)

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        return self.members.role_on(page_id, subject, self.investors.title_query(page_id))

"""The company service's SQL unit of work: its repositories, the shared page tables and its outbox
on one transaction. It satisfies `ports.CompanyUnitOfWork` (and so the shared page use cases'
MembershipUnitOfWork); the one module of the service layer that knows SQLAlchemy and the adapters."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine

from company_service.adapters.company_repository import CompanyRepository
from company_service.adapters.event_publisher import CompanyEventPublisher
from company_service.adapters.tables import page_tables, page_unlocks
from company_service.domain.model import Company
from devinsider_common.consumer import SqlInbox
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.writer import OutboxWriter
from devinsider_common.pages.orphans import PageOrphanMarks
from devinsider_common.pages.ports import MembershipEvents
from devinsider_common.pages.repositories import InvitationRepository, MemberRepository
from devinsider_common.pages.roles import PageRole
from devinsider_common.pages.unlocks import SqlUnlockStore

SOURCE = "company"


class SqlCompanyUnitOfWork(SqlUnitOfWork):
    companies: CompanyRepository
    members: MemberRepository
    invitations: InvitationRepository
    events: CompanyEventPublisher
    membership_events: MembershipEvents
    inbox: SqlInbox
    unlocks: SqlUnlockStore
    orphans: PageOrphanMarks[Company]

    def __init__(
        self, engine: Engine, accept_url: str, logo_url: Callable[[str], str], read_only: bool = False
    ) -> None:
        super().__init__(engine, read_only)
        self._accept_url = accept_url
        self._logo_url = logo_url

    def _open_repositories(self, connection: Connection) -> None:
        self.companies = CompanyRepository(connection)
        self.members = MemberRepository(connection, page_tables)
        self.invitations = InvitationRepository(connection, page_tables)
        self.events = CompanyEventPublisher(
            OutboxWriter(connection, SOURCE), self.companies.title, self._accept_url, self._logo_url
        )
        self.membership_events = self.events
        self.orphans = PageOrphanMarks(self.companies.get, self.companies.save, self.events.company_updated)
        self.inbox = SqlInbox(connection)
        self.unlocks = SqlUnlockStore(connection, page_unlocks)

    def page_title(self, page_id: str) -> str | None:
        """The page's display name; None when it does not exist or is deleted."""
        return self.companies.title(page_id)

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        return self.members.role_on(page_id, subject, self.companies.title_query(page_id))

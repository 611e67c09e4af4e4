"""The program service's SQL unit of work: programs, applications, members, invitations and the
outbox on one transaction. It implements `ports.ProgramUnitOfWork` (and so the shared
`devinsider_common.pages.ports.MembershipUnitOfWork`); the only module of the service layer that
knows SQLAlchemy and the adapters."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, Select, select

from devinsider_common.consumer import SqlInbox
from devinsider_common.db.uow import SqlUnitOfWork
from devinsider_common.outbox.writer import OutboxWriter
from devinsider_common.pages.orphans import PageOrphanMarks
from devinsider_common.pages.repositories import InvitationRepository, MemberRepository
from devinsider_common.pages.roles import PageRole
from program_service.adapters.application_repository import ApplicationRepository
from program_service.adapters.event_publisher import ProgramEventPublisher
from program_service.adapters.program_repository import ProgramRepository
from program_service.adapters.tables import page_tables, programs
from program_service.domain.program import Program

SOURCE = "program"


class SqlProgramUnitOfWork(SqlUnitOfWork):
    programs: ProgramRepository
    applications: ApplicationRepository
    members: MemberRepository
    invitations: InvitationRepository
    events: ProgramEventPublisher
    membership_events: ProgramEventPublisher
    orphans: PageOrphanMarks[Program]
    inbox: SqlInbox

    def __init__(self, engine: Engine, accept_url: str, read_only: bool = False) -> None:
        super().__init__(engine, read_only)
        self._accept_url = accept_url

    def _open_repositories(self, connection: Connection) -> None:
        self.programs = ProgramRepository(connection)
        self.applications = ApplicationRepository(connection)
        self.members = MemberRepository(connection, page_tables)
        self.invitations = InvitationRepository(connection, page_tables)
        self.events = ProgramEventPublisher(OutboxWriter(connection, SOURCE), self._accept_url)
        self.membership_events = self.events
        self.orphans = PageOrphanMarks(self.programs.get, self.programs.save, self.events.program_updated)
        self.inbox = SqlInbox(connection)

    @staticmethod
    def _title_query(page_id: str) -> Select[tuple[str]]:
        return select(programs.c.display_name).where(programs.c.id == page_id, programs.c.deleted_at.is_(None))

    def page_title(self, page_id: str) -> str | None:
        title: str | None = self.connection.execute(self._title_query(page_id)).scalar()
        return title

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        return self.members.role_on(page_id, subject, self._title_query(page_id))

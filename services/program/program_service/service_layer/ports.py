"""What the program use cases need from the world, as Protocols: the unit of work with its
repositories and event publisher, the company service, and the user directory.

The SQL unit of work (`service_layer/unit_of_work.py`) and the gRPC company client
(`adapters/company_client.py`) implement them in production; `tests/fakes.py` in the use-case tests.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Protocol

from devinsider_common.pages.model import DirectoryWindow, PageForViewer
from devinsider_common.pages.ports import InvitationStore, MembershipEvents, MembershipUnitOfWork, MemberStore
from devinsider_common.pages.ports import UserDirectory as UserDirectory  # who a caller is (members, applicants)
from devinsider_common.pages.ports import UserLookup as UserLookup  # users by name (the owner staff assign)
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from program_service.domain.application import Application, ApplicationState, Recipient
from program_service.domain.program import Program
from program_service.domain.query import ProgramQuery

Clock = Callable[[], datetime]


class ProgramStore(Protocol):
    """Programs (SQL: `adapters.program_repository.ProgramRepository`)."""

    def add(self, program: Program) -> None:
        """Raises DuplicateRecord for a second program of the creator with the same idempotency key."""
        ...

    def get(self, program_id: str, lock: bool = False) -> Program | None:
        """The program, deleted ones included."""
        ...

    def get_for_viewer(self, program_id: str, subject: str | None) -> PageForViewer[Program] | None:
        """The program (deleted ones included) with the role of the viewer `subject`, read in one statement;
        None when unknown."""
        ...

    def find_by_request(self, creator: str, idempotency_key: str) -> Program | None: ...

    def save(self, program: Program) -> Program:
        """Write `program` if its version is still the stored one, and return it with the next
        version; CONFLICT (CONCURRENT_UPDATE) when someone changed it since it was read."""
        ...

    def get_many(self, program_ids: Collection[str]) -> dict[str, Program]:
        """The live (not deleted) programs among `program_ids`, by id."""
        ...

    def list_after(self, window: ListWindow, query: ProgramQuery) -> DirectoryWindow[Program]:
        """`window.size + 1` programs at most after the window's position, in the query's order, with the role
        of `query.viewer` on each; and how many programs the query finds."""
        ...


class ApplicationStore(Protocol):
    """Applications (SQL: `adapters.application_repository.ApplicationRepository`)."""

    def add(self, application: Application) -> None:
        """Raises DuplicateRecord for a second open application of a company to a program, or a
        second application of the applicant with the same idempotency key."""
        ...

    def get(self, application_id: str, lock: bool = False) -> Application | None: ...

    def find_by_request(self, applicant_subject: str, idempotency_key: str) -> Application | None: ...

    def open_for(self, program_id: str, company_id: str) -> Application | None:
        """The pending or approved application of the company to the program."""
        ...

    def pending_of(self, program_id: str) -> list[Application]: ...

    def save_state(self, application: Application) -> None:
        """Store the application's state, decider, rejection reason and decision time."""
        ...

    def list_after(
        self,
        window: ListWindow,
        program_id: str | None = None,
        company_id: str | None = None,
        state: ApplicationState | None = None,
    ) -> list[Application]:
        """Newest first, `window.size + 1` at most after the window's position (an id)."""
        ...


class ProgramEvents(MembershipEvents, Protocol):
    """The program service's events (on its outbox, in the unit of work's transaction), members'
    and invitations' included."""

    def program_created(self, program: Program, creator: str) -> None: ...

    def program_updated(self, program: Program, changed: list[str]) -> None: ...

    def program_deleted(self, program: Program, deleter: str) -> None: ...

    def application_created(
        self, application: Application, program: Program, managers: Iterable[Recipient]
    ) -> None: ...

    def application_updated(
        self, application: Application, previous: ApplicationState, program: Program, recipients: Iterable[Recipient]
    ) -> None: ...


class ProgramUnitOfWork(MembershipUnitOfWork, UnitOfWork, Protocol):
    """One transaction over programs, applications, members, invitations and the outbox. Also the
    shared membership use cases' unit of work (`MembershipUnitOfWork`)."""

    # Read-only properties: a unit of work may hold narrower types (the SQL repositories).
    @property
    def programs(self) -> ProgramStore: ...

    @property
    def applications(self) -> ApplicationStore: ...

    @property
    def members(self) -> MemberStore: ...

    @property
    def invitations(self) -> InvitationStore: ...

    @property
    def events(self) -> ProgramEvents: ...

    @property
    def membership_events(self) -> MembershipEvents: ...


UowFactory = UnitOfWorkFactory[ProgramUnitOfWork]


class CompanyDirectory(Protocol):
    """What the program service asks of the company service (SQL-free; gRPC:
    `adapters.company_client.GrpcCompanyDirectory`)."""

    def role(self, company: str, subject: str, permission: PagePermission) -> tuple[bool, PageRole | None]:
        """Whether `subject` holds `permission` on `companies/{id}`, and its role there."""
        ...

    def require(self, company: str, subject: str, permission: PagePermission) -> PageRole:
        """The role when allowed; PERMISSION_DENIED otherwise (UNAVAILABLE if the company service is down)."""
        ...

    def display_name(self, company: str) -> str:
        """The company's display name, or empty when it cannot be read (never fails the caller)."""
        ...

"""In-memory fakes of the program service's ports (cosmicpython's pattern): a unit of work over a
`MemoryStore` that honours `ports.ProgramUnitOfWork`, its repositories, an event recorder, the
company service and the user directory. `tests/adapters/test_repositories.py` runs the same
contract on these and on the SQL unit of work (PostgreSQL and SQLite), so the fakes stay honest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.model import DirectoryWindow, Invitation, Member, PageForViewer
from devinsider_common.pages.orphans import PageOrphanMarks
from devinsider_common.pages.ports import ClaimsDirectory, UserSummary
from devinsider_common.pages.roles import PagePermission, PageRole, allows
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.memory import (
    MemoryInbox,
    MemoryInvitations,
    MemoryMembers,
    MemoryStore,
    MemoryUnitOfWork,
    directory_window,
    insert_unique,
    live_member_role,
    page_for_viewer,
    window_of,
)
from devinsider_common.unit_of_work import DuplicateRecord
from program_service.domain.application import OPEN_STATES, Application, ApplicationState, Recipient
from program_service.domain.program import Program, ProgramState
from program_service.domain.query import EPOCH, ProgramQuery


class MemoryPrograms:
    """`adapters.program_repository.ProgramRepository` on a dict keyed by id."""

    def __init__(self, table: dict[str, Program], members: dict[tuple[str, str], Member]) -> None:
        self._rows = table
        self._members = members

    def add(self, program: Program) -> None:
        if program.idempotency_key and self.find_by_request(program.creator, program.idempotency_key):
            raise DuplicateRecord(f"program of {program.creator} with key {program.idempotency_key!r} exists")
        insert_unique(self._rows, program.id, program, "program")

    def get(self, program_id: str, lock: bool = False) -> Program | None:
        return self._rows.get(program_id)

    def get_for_viewer(self, program_id: str, subject: str | None) -> PageForViewer[Program] | None:
        return page_for_viewer(self._rows.get(program_id), program_id, subject, self._members)

    def find_by_request(self, creator: str, idempotency_key: str) -> Program | None:
        return next(
            (p for p in self._rows.values() if (p.creator, p.idempotency_key) == (creator, idempotency_key)), None
        )

    def save(self, program: Program) -> Program:
        stored = self._rows.get(program.id)
        if stored is None or stored.version != program.version:
            raise errors.Conflict(f"{program.name} changed concurrently; retry", reason="CONCURRENT_UPDATE")
        saved = replace(program, version=program.version + 1)
        self._rows[program.id] = saved
        return saved

    def get_many(self, program_ids: Collection[str]) -> dict[str, Program]:
        return {i: p for i in program_ids if (p := self._rows.get(i)) is not None and not p.is_deleted}

    def list_after(self, window: ListWindow, query: ProgramQuery) -> DirectoryWindow[Program]:
        descending = query.descending()

        def key(program: Program) -> tuple[Any, str]:
            if query.order_by == "publish_time desc":
                return program.published_at or EPOCH, program.id
            if query.order_by == "update_time desc":
                return program.updated_at or EPOCH, program.id
            return program.content.display_name.lower(), program.id

        after = window.after
        if after and descending:  # a position carries the time as ISO text
            window = replace(window, after=(datetime.fromisoformat(str(after[0])), str(after[1])))
        found = [p for p in self._rows.values() if _matches(p, query, self._members)]
        return directory_window(found, window, key, lambda p: p.id, query.viewer, self._members, descending=descending)


def _matches(program: Program, query: ProgramQuery, members: dict[tuple[str, str], Member]) -> bool:
    """The WHERE clause of ProgramRepository._where, in Python."""
    c = program.content
    member = query.viewer is not None and (program.id, query.viewer) in members
    visible = query.see_all or program.state is ProgramState.PUBLISHED or member
    texts = (c.display_name, c.vendor_name, c.tagline, c.description)
    return (
        not program.is_deleted
        and program.state in query.states
        and visible
        and (not query.only_member_of or member)
        and (not query.text or any(query.text.lower() in t.lower() for t in texts))
        and (not query.types or c.program_type in query.types)
        and (not query.country_codes or bool(set(query.country_codes) & set(c.country_codes)))
        and (not query.industries or bool(set(query.industries) & set(c.industries)))
        and (not query.vendor_company or c.vendor_company == query.vendor_company)
        and (not query.orphaned or program.orphaned_at is not None)
    )


class MemoryApplications:
    """`adapters.application_repository.ApplicationRepository` on a dict keyed by id, with the
    table's unique keys (idempotency key per applicant, one open application per program and company)."""

    def __init__(self, table: dict[str, Application]) -> None:
        self._rows = table

    def add(self, application: Application) -> None:
        a = application
        if a.idempotency_key and self.find_by_request(a.applicant_subject, a.idempotency_key):
            raise DuplicateRecord(f"application of {a.applicant_subject} with key {a.idempotency_key!r} exists")
        if a.state in OPEN_STATES and self.open_for(a.program_id, a.company_id):
            raise DuplicateRecord(f"{a.company} has an open application to {a.program_id}")
        insert_unique(self._rows, a.id, a, "application")

    def get(self, application_id: str, lock: bool = False) -> Application | None:
        return self._rows.get(application_id)

    def find_by_request(self, applicant_subject: str, idempotency_key: str) -> Application | None:
        return next(
            (
                a
                for a in self._rows.values()
                if (a.applicant_subject, a.idempotency_key) == (applicant_subject, idempotency_key)
            ),
            None,
        )

    def open_for(self, program_id: str, company_id: str) -> Application | None:
        return next(
            (
                a
                for a in self._rows.values()
                if (a.program_id, a.company_id) == (program_id, company_id) and a.state in OPEN_STATES
            ),
            None,
        )

    def pending_of(self, program_id: str) -> list[Application]:
        return [a for a in self._rows.values() if a.program_id == program_id and a.state is ApplicationState.PENDING]

    def save_state(self, application: Application) -> None:
        stored = self._rows.get(application.id)
        if stored is not None:
            self._rows[application.id] = replace(
                stored,
                state=application.state,
                decider=application.decider,
                rejection_reason=application.rejection_reason,
                decided_at=application.decided_at,
            )

    def list_after(
        self,
        window: ListWindow,
        program_id: str | None = None,
        company_id: str | None = None,
        state: ApplicationState | None = None,
    ) -> list[Application]:
        rows = [
            a
            for a in self._rows.values()
            if (program_id is None or a.program_id == program_id)
            and (company_id is None or a.company_id == company_id)
            and (state is None or a.state is state)
        ]
        return window_of(rows, window, lambda a: (a.id,), descending=True)


@dataclass(frozen=True)
class Event:
    """What a use case published (in its transaction): the publisher's method and its arguments."""

    kind: str
    args: tuple[Any, ...]


class RecordedEvents:
    """`ports.ProgramEvents` writing `Event`s to the unit of work's `events` table: they are
    published with its commit and dropped with a rollback, as outbox rows are."""

    def __init__(self, table: dict[int, Event]) -> None:
        self._rows = table

    def _add(self, kind: str, *args: Any) -> None:
        self._rows[len(self._rows)] = Event(kind, args)

    def program_created(self, program: Program, creator: str) -> None:
        self._add("program_created", program, creator)

    def program_updated(self, program: Program, changed: list[str]) -> None:
        self._add("program_updated", program, list(changed))

    def program_deleted(self, program: Program, deleter: str) -> None:
        self._add("program_deleted", program, deleter)

    def application_created(self, application: Application, program: Program, managers: Iterable[Recipient]) -> None:
        self._add("application_created", application, program, list(managers))

    def application_updated(
        self, application: Application, previous: ApplicationState, program: Program, recipients: Iterable[Recipient]
    ) -> None:
        self._add("application_updated", application, previous, program, list(recipients))

    def member_added(self, member: Member, invitation: Invitation | None) -> None:
        self._add("member_added", member, invitation)

    def member_updated(self, member: Member, previous_role: PageRole) -> None:
        self._add("member_updated", member, previous_role)

    def member_removed(self, member: Member, left: bool) -> None:
        self._add("member_removed", member, left)

    def invitation_sent(self, invitation: Invitation, token: str, page_title: str, inviter: Member) -> None:
        self._add("invitation_sent", invitation, token, page_title, inviter)

    def invitation_changed(self, invitation: Invitation) -> None:
        self._add("invitation_changed", invitation)


class FakeProgramUnitOfWork(MemoryUnitOfWork):
    """`ports.ProgramUnitOfWork` on a MemoryStore (a store per test)."""

    programs: MemoryPrograms
    applications: MemoryApplications
    members: MemoryMembers
    invitations: MemoryInvitations
    events: RecordedEvents
    membership_events: RecordedEvents
    orphans: PageOrphanMarks[Program]
    inbox: MemoryInbox

    def _open_repositories(self) -> None:
        self.programs = MemoryPrograms(self.table("programs"), self.table("members"))
        self.applications = MemoryApplications(self.table("applications"))
        self.members = MemoryMembers(self.table("members"))
        self.invitations = MemoryInvitations(self.table("invitations"))
        self.events = RecordedEvents(self.table("events"))
        self.membership_events = self.events
        self.orphans = PageOrphanMarks(self.programs.get, self.programs.save, self.events.program_updated)
        self.inbox = MemoryInbox(self.table("inbox"))

    def page_title(self, page_id: str) -> str | None:
        program = self.programs.get(page_id)
        return program.content.display_name if program and not program.is_deleted else None

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        return live_member_role(self, page_id, subject)


def published(store: MemoryStore, *kinds: str) -> list[Event]:
    """The events committed to `store`, in order (only those of `kinds` when given)."""
    events: dict[int, Event] = store.tables.get("events", {})
    return [events[i] for i in sorted(events) if not kinds or events[i].kind in kinds]


class FakeCompanies:
    """`ports.CompanyDirectory`: the company service's answers from tables the test fills in."""

    def __init__(self) -> None:
        self.roles: dict[tuple[str, str], PageRole] = {}  # (companies/{id}, subject) -> role
        self.names: dict[str, str] = {}  # companies/{id} -> display name
        self.calls: list[tuple[str, str, PagePermission]] = []  # (company, subject, permission) asked
        self.down = False

    def grant(self, company: str, subject: str, role: PageRole) -> None:
        self.roles[(company, subject)] = role

    def role(self, company: str, subject: str, permission: PagePermission) -> tuple[bool, PageRole | None]:
        self.calls.append((company, subject, permission))
        if self.down:
            raise errors.Unavailable(f"cannot check access to {company}: UNAVAILABLE")
        role = self.roles.get((company, subject))
        return allows(role, permission), role

    def require(self, company: str, subject: str, permission: PagePermission) -> PageRole:
        allowed, role = self.role(company, subject, permission)
        if not allowed or role is None:
            raise errors.PermissionDenied(
                f"this needs the {permission.name.lower()} permission on {company}", reason="PAGE_PERMISSION_DENIED"
            )
        return role

    def display_name(self, company: str) -> str:
        return "" if self.down else self.names.get(company, "")


class FakeUsers:
    """`ports.UserDirectory`: the token's claims, and `users/{id}` for the subjects the user
    service knows (`known`: subject -> user id)."""

    def __init__(self, known: dict[str, str] | None = None) -> None:
        self.known = dict(known or {})

    def describe(self, principal: Principal) -> UserSummary:
        summary = ClaimsDirectory().describe(principal)
        user_id = self.known.get(principal.subject)
        return replace(summary, user=f"users/{user_id}") if user_id else summary


class Race:
    """A concurrent twin: `competitor` (another request, run on the normal unit of work) commits
    just before the next insert of a program or an application through `uow()`; that insert then
    meets the committed twin's unique keys, as the database's do (DuplicateRecord)."""

    def __init__(self, store: MemoryStore, competitor: Callable[[], object]) -> None:
        self.store = store
        self._competitor: Callable[[], object] | None = competitor

    def uow(self, read_only: bool = False) -> FakeProgramUnitOfWork:
        return RacingUnitOfWork(self.store, self, read_only)

    def before_insert(self, table: str, insert: Callable[[dict[Any, Any]], None]) -> None:
        if self._competitor is None:
            return
        competitor, self._competitor = self._competitor, None
        competitor()
        insert(dict(self.store.tables.get(table, {})))  # the unique keys see every committed row


class RacingUnitOfWork(FakeProgramUnitOfWork):
    def __init__(self, store: MemoryStore, race: Race, read_only: bool = False) -> None:
        super().__init__(store, read_only)
        self._race = race

    def _open_repositories(self) -> None:
        super()._open_repositories()
        race = self._race

        class RacingPrograms(MemoryPrograms):
            def add(self, program: Program) -> None:
                race.before_insert("programs", lambda rows: MemoryPrograms(rows, {}).add(program))
                super().add(program)

        class RacingApplications(MemoryApplications):
            def add(self, application: Application) -> None:
                race.before_insert("applications", lambda rows: MemoryApplications(rows).add(application))
                super().add(application)

        self.programs = RacingPrograms(self.table("programs"), self.table("members"))
        self.applications = RacingApplications(self.table("applications"))

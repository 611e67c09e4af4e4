"""In-memory doubles of the company service's ports (cosmicpython's fakes): no database, same contract.

`FakeCompanyUow` honours `service_layer.ports.CompanyUnitOfWork` on a `MemoryStore`: its writes,
the events it records included, are seen by the next unit of work only once committed. The
adapter tests (tests/adapters) run the same assertions on it and on the SQL unit of work, on
PostgreSQL and SQLite, so what the use-case tests learn from it holds on the databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from company_service.bootstrap import build_app
from company_service.domain.content import CompanyContent
from company_service.domain.directory import ORDERS, TOTAL_SIZE_CAP, DirectoryQuery, search_text, sort_value
from company_service.domain.model import Claim, Company, CompanyState
from company_service.service_layer.app import CompanyApp
from company_service.settings import CompanySettings
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.entitlements import EntitlementsSource
from devinsider_common.ids import new_id
from devinsider_common.pages.model import DirectoryWindow, Member, PageForViewer
from devinsider_common.pages.orphans import PageOrphanMarks
from devinsider_common.pages.ports import ClaimsDirectory
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.memory import (
    MemoryInbox,
    MemoryInvitations,
    MemoryMembers,
    MemoryStore,
    MemoryUnitOfWork,
    MemoryUnlocks,
    MemoryUsers,
    RecordedEvent,
    RecordingPageEvents,
    directory_window,
    insert_unique,
    live_member_role,
    page_for_viewer,
)
from devinsider_common.testing.tokens import principal
from devinsider_common.unit_of_work import DuplicateRecord


def _matches(company: Company, q: DirectoryQuery, members: Iterable[Member]) -> bool:
    """The directory's filters, as `company_repository._filtered` writes them in SQL."""
    c = company.content
    text = search_text(c)
    checks = [
        company.state in q.states,
        all(word in text for word in q.search_words()),
        not q.industries or bool(set(q.industries) & set(c.industries)),
        not q.solution_categories or bool(set(q.solution_categories) & set(c.solution_categories)),
        not q.target_regions or bool(set(q.target_regions) & set(c.target_regions)),
        not q.licensing_models or bool(set(q.licensing_models) & set(c.licensing_models)),
        not q.hq_country_codes or c.hq_country_code in q.hq_country_codes,
        not q.company_sizes or c.company_size in q.company_sizes,
        q.looking_for_funding is None or c.financials.looking_for_funding == q.looking_for_funding,
        q.member_subject is None or any(m.page_id == company.id and m.subject == q.member_subject for m in members),
        not q.orphaned or company.orphaned_at is not None,
    ]
    return all(checks)


def _live_founder(company: Company) -> str:
    """The key of the `uq_companies_live_founder` index ('' when the page is not in it)."""
    return company.founder if company.founder and company.state is not CompanyState.DELETED else ""


class MemoryCompanies:
    """`adapters.company_repository.CompanyRepository` on a dict keyed by id, with the table's unique
    keys: (creator, idempotency key), and one live page per founder."""

    def __init__(
        self,
        table: dict[str, Company],
        members: dict[tuple[str, str], Member],
        unlocks: dict[str, tuple[str, str, datetime]],
    ) -> None:
        self._rows = table
        self._members = members
        self._unlocks = unlocks

    def get(self, company_id: str, lock: bool = False) -> Company | None:
        return self._rows.get(company_id)

    def get_for_viewer(self, company_id: str, subject: str | None) -> PageForViewer[Company] | None:
        return page_for_viewer(self._rows.get(company_id), company_id, subject, self._members, self._unlocks)

    def get_many(self, ids: Sequence[str]) -> dict[str, Company]:
        return {i: self._rows[i] for i in set(ids) if i in self._rows}

    def by_idempotency_key(self, creator: str, key: str) -> Company | None:
        return next((c for c in self._rows.values() if (c.creator, c.idempotency_key) == (creator, key)), None)

    def live_founded_by(self, subject: str) -> Company | None:
        return next((c for c in self._rows.values() if c.founder == subject and not c.is_deleted), None)

    def title(self, company_id: str) -> str | None:
        company = self._rows.get(company_id)
        return company.content.display_name if company and not company.is_deleted else None

    def titles(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self._rows[i].content.display_name for i in set(ids) if i in self._rows}

    def _check_unique(self, company: Company) -> None:
        for other in self._rows.values():
            if other.id == company.id:
                continue
            if company.idempotency_key is not None and (other.creator, other.idempotency_key) == (
                company.creator,
                company.idempotency_key,
            ):
                raise DuplicateRecord(f"request {company.idempotency_key!r} of {company.creator} was used")
            if _live_founder(company) and _live_founder(other) == _live_founder(company):
                raise DuplicateRecord(f"{company.founder} already founded a live page")

    def add(self, company: Company) -> None:
        self._check_unique(company)
        insert_unique(self._rows, company.id, company, "company")

    def save(self, company: Company) -> Company:
        stored = self._rows.get(company.id)
        if stored is None or stored.version != company.version:
            raise errors.Conflict(f"{company.name} changed concurrently; retry", reason="CONCURRENT_UPDATE")
        saved = replace(company, version=company.version + 1)
        self._check_unique(saved)
        self._rows[company.id] = saved
        return saved

    def list_after(self, query: DirectoryQuery, window: ListWindow, viewer: str | None) -> DirectoryWindow[Company]:
        key_name, descending = ORDERS[query.order_by]
        found = [c for c in self._rows.values() if _matches(c, query, self._members.values())]
        after = window.after
        if after and key_name != "sort_name":  # a time travels as ISO 8601 text in the token
            after = (datetime.fromisoformat(str(after[0])), str(after[1]))
        return directory_window(
            found,
            replace(window, after=after),
            lambda c: (sort_value(c, key_name), c.id),
            lambda c: c.id,
            viewer,
            self._members,
            descending=descending,
            count_limit=TOTAL_SIZE_CAP + 1,
        )


Event = RecordedEvent


class RecordingEvents(RecordingPageEvents):
    """The company events, beside the shared membership ones (see RecordingPageEvents)."""

    def company_created(self, company: Company, creator: str) -> None:
        self.record("CompanyCreated", company.name, company=company, creator=creator)

    def company_updated(self, company: Company, changed: list[str]) -> None:
        self.record("CompanyUpdated", company.name, company=company, changed=list(changed))

    def company_deleted(self, company: Company, deleter: str) -> None:
        self.record("CompanyDeleted", company.name, deleter=deleter)

    def claim_requested(self, company: Company, claim: Claim) -> None:
        self.record("CompanyClaimRequested", company.name, claim=claim)

    def claim_decided(self, company: Company, claim: Claim, approved: bool, reason: str = "") -> None:
        self.record("ClaimDecided", company.name, email=claim.email, approved=approved, reason=reason)

    def member_removed(self, member: Member, left: bool) -> None:
        self.record("MemberRemoved", member.subject, left=left, with_page=False)

    def member_removed_with_page(self, member: Member) -> None:
        self.record("MemberRemoved", member.subject, left=False, with_page=True)


class FakeStore(MemoryStore):
    """A MemoryStore whose next commit can be made to fail (the database refusing it)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_next_commit: Exception | None = None


class FakeCompanyUow(MemoryUnitOfWork):
    store: FakeStore
    companies: MemoryCompanies
    members: MemoryMembers
    invitations: MemoryInvitations
    events: RecordingEvents
    membership_events: RecordingEvents
    orphans: PageOrphanMarks[Company]
    inbox: MemoryInbox
    unlocks: MemoryUnlocks

    def __init__(self, store: FakeStore, read_only: bool = False) -> None:
        super().__init__(store, read_only)

    def _open_repositories(self) -> None:
        members = self.table("members")
        self.companies = MemoryCompanies(self.table("companies"), members, self.table("page_unlocks"))
        self.members = MemoryMembers(members)
        self.invitations = MemoryInvitations(self.table("invitations"))
        self.events = RecordingEvents(self.table("outbox"))
        self.membership_events = self.events
        self.orphans = PageOrphanMarks(self.companies.get, self.companies.save, self.events.company_updated)
        self.inbox = MemoryInbox(self.table("inbox"))
        self.unlocks = MemoryUnlocks(self.table("page_unlocks"))

    def commit(self) -> None:
        failure, self.store.fail_next_commit = self.store.fail_next_commit, None
        if failure is not None:
            raise failure
        super().commit()

    def page_title(self, page_id: str) -> str | None:
        return self.companies.title(page_id)

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        return live_member_role(self, page_id, subject)


class RacedCompanies(MemoryCompanies):
    """A concurrent request commits `twin` during the first founder lookup: after it (the lookup
    misses it and the write that follows meets it in the table's unique keys, as the database's
    index does), or just before it (`seen`: the lookup, a statement of its own, sees it)."""

    def __init__(self, uow: FakeCompanyUow, pending: list[Company], seen: bool) -> None:
        super().__init__(uow.table("companies"), uow.table("members"), uow.table("page_unlocks"))
        self._uow, self._pending, self._seen = uow, pending, seen

    def live_founded_by(self, subject: str) -> Company | None:
        found = None if self._seen else super().live_founded_by(subject)
        if self._pending:
            twin = self._pending.pop()
            with FakeCompanyUow(self._uow.store) as other:
                other.companies.add(twin)
                other.commit()
            self._uow.table("companies")[twin.id] = twin
        return super().live_founded_by(subject) if self._seen else found


def racing(twin: Company, seen: bool = False) -> type[FakeCompanyUow]:
    """Units of work on which `twin` is committed concurrently, once (see RacedCompanies)."""
    pending = [twin]

    class Raced(FakeCompanyUow):
        def _open_repositories(self) -> None:
            super()._open_repositories()
            self.companies = RacedCompanies(self, pending, seen)

    return Raced


def published(store: MemoryStore, kind: str = "") -> list[Event]:
    """The committed events, in order; only those of `kind` when given."""
    events: dict[int, Event] = store.tables.get("outbox", {})
    return [e for _, e in sorted(events.items()) if not kind or e.kind == kind]


def mailed_token(store: MemoryStore, email: str) -> str:
    """The one-time token of the latest invitation sent to `email` (what the mail carries)."""
    sent = [e for e in published(store, "InvitationSent") if e.about == email.lower()]
    assert sent, f"no invitation sent to {email}"
    return str(sent[-1].details["token"])


class FakeUnlocks:
    """The unlock checker: the (page, subject) pairs whose organisation unlocked the page; each question
    (page, subject) in `asked`, the unlockers it was given (read with the page) in `given`."""

    def __init__(self) -> None:
        self.unlocked: set[tuple[str, str]] = set()
        self.asked: list[tuple[str, str]] = []
        self.given: list[tuple[str, ...]] = []

    def has_unlocked(self, target: str, subject: str, unlockers: Sequence[str]) -> bool:
        self.asked.append((target, subject))
        self.given.append(tuple(unlockers))
        return (target, subject) in self.unlocked


class MemoryLogoStorage:
    """`ports.LogoStorage` on a dict (the local-disk adapter is tested in tests/adapters)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.files[key] = data

    def get(self, key: str) -> bytes | None:
        return self.files.get(key)

    def delete(self, key: str) -> None:
        self.files.pop(key, None)


def unit_settings(**overrides: object) -> CompanySettings:
    """Settings of a use-case test: nothing in them is opened (no database, no port, no disk)."""
    values: dict[str, object] = {"database_url": "sqlite+pysqlite:///:memory:", "logo_max_bytes": 4096, **overrides}
    return CompanySettings(**values)  # type: ignore[arg-type]


@dataclass
class World:
    """The company app on the in-memory unit of work, with its fakes at hand."""

    app: CompanyApp
    store: FakeStore
    clock: FakeClock
    unlocks: FakeUnlocks
    storage: MemoryLogoStorage
    settings: CompanySettings
    users: MemoryUsers  # the user service's users, as staff name them

    def uow(self, read_only: bool = False) -> FakeCompanyUow:
        return FakeCompanyUow(self.store, read_only)

    def events(self, kind: str = "") -> list[Event]:
        return published(self.store, kind)

    def stored(self, company_id: str) -> Company:
        companies: dict[str, Company] = self.store.tables.get("companies", {})
        assert company_id in companies, f"no company {company_id}"
        return companies[company_id]

    def seed(
        self,
        members: dict[str, PageRole] | None = None,
        state: CompanyState = CompanyState.ACTIVE,
        claim: Claim | None = None,
        founder: str = "",
        **content: object,
    ) -> str:
        """A page with the given members (subject -> role), written directly; returns its id."""
        now = self.clock()
        values: dict[str, object] = {"display_name": "Seeded", "website_url": "https://seeded.io", **content}
        company = Company(
            new_id(), CompanyContent(**values), state, claim=claim,  # type: ignore[arg-type]
            founder=founder or (claim.subject if claim else ""), created_at=now, updated_at=now,
        )  # fmt: skip
        with self.uow() as uow:
            uow.companies.add(company)
            for subject, role in (members or {}).items():
                uow.members.add(Member(company.id, subject, role, "", subject, f"{subject}@example.com", now, now))
            uow.commit()
        return company.id


def world(
    settings: CompanySettings | None = None,
    now: datetime | None = None,
    uow: type[FakeCompanyUow] = FakeCompanyUow,
    entitlements: EntitlementsSource | None = None,
) -> World:
    """A fresh store, clock, billing and logo storage; `uow` builds the unit of work (a test may wrap it);
    with `entitlements`, the pages' plans are enforced (seats, directory filters)."""
    settings = settings or unit_settings()
    store, clock, unlocks, storage, users = (
        FakeStore(),
        FakeClock(now),
        FakeUnlocks(),
        MemoryLogoStorage(),
        MemoryUsers(),
    )
    app = build_app(settings, partial(uow, store), clock, ClaimsDirectory(), unlocks, storage, users, entitlements)
    return World(app, store, clock, unlocks, storage, settings, users)


def person(subject: str, roles: tuple[str, ...] = ("isv",), email: str = "", *, verified: bool = True) -> Principal:
    return principal(subject, roles, email, email_verified=verified)


STAFF = principal("kc-staff", ("admin",))
SERVICE = principal("svc-matching", ("service",))

"""In-memory doubles of the investor service's ports (cosmicpython's fakes): no database, same contract.

`FakeInvestorUow` honours `service_layer.ports.InvestorUnitOfWork` on a `MemoryStore`: its writes,
the events it records included, are seen by the next unit of work only once committed. The
adapter tests (tests/adapters) run the same assertions on it and on the SQL unit of work, on
PostgreSQL and SQLite, so what the use-case tests learn from it holds on the databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from devinsider_common.auth.principal import Principal
from devinsider_common.entitlements import EntitlementsSource
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
from investor_service.adapters.investor_repository import COUNT_CAP
from investor_service.adapters.tables import TAG_KINDS
from investor_service.bootstrap import build_app
from investor_service.domain.model import Contact, Investor, Profile
from investor_service.domain.query import InvestorQuery, Order, position
from investor_service.service_layer.app import InvestorApp
from investor_service.settings import InvestorSettings

_DESCENDING = {Order.DISPLAY_NAME: False, Order.CREATE_TIME_DESC: True, Order.UPDATE_TIME_DESC: True}


def _matches(investor: Investor, query: InvestorQuery, members: Iterable[Member]) -> bool:
    """The directory's filters, as `investor_repository._filters` writes them in SQL."""
    p = investor.profile
    ticket = p.ticket_min or p.ticket_max
    amount = query.ticket_amount_minor
    checks = [
        investor.state in query.states,
        query.text in "\n".join((p.display_name, p.tagline, p.description)).lower(),
        not query.categories or p.category in query.categories,
        not query.investor_types or p.investor_type in query.investor_types,
        *(not getattr(query, kind) or set(getattr(query, kind)) & set(getattr(p, kind)) for kind in TAG_KINDS),
        not query.currency_code
        or (
            (ticket.currency_code if ticket else "") == query.currency_code
            and (p.ticket_min is None or p.ticket_min.amount_minor <= amount)
            and (p.ticket_max is None or p.ticket_max.amount_minor >= amount)
        ),
        not query.member_subject
        or any(m.page_id == investor.id and m.subject == query.member_subject for m in members),
        not query.orphaned or investor.orphaned_at is not None,
    ]
    return all(checks)


class MemoryInvestors:
    """`adapters.investor_repository.InvestorRepository` on a dict keyed by id; one page per creator
    and request id, as the table's unique key."""

    def __init__(
        self,
        table: dict[str, Investor],
        members: dict[tuple[str, str], Member],
        unlocks: dict[str, tuple[str, str, datetime]],
    ) -> None:
        self._rows = table
        self._members = members
        self._unlocks = unlocks

    def get(self, investor_id: str, lock: bool = False) -> Investor | None:
        return self._rows.get(investor_id)

    def get_for_viewer(self, investor_id: str, subject: str | None) -> PageForViewer[Investor] | None:
        return page_for_viewer(self._rows.get(investor_id), investor_id, subject, self._members, self._unlocks)

    def get_many(self, ids: Sequence[str]) -> dict[str, Investor]:
        return {i: self._rows[i] for i in set(ids) if i in self._rows}

    def find_by_request(self, creator: str, request_id: str) -> Investor | None:
        return self._by_request(creator, request_id)

    def _by_request(self, creator: str, request_id: str) -> Investor | None:
        if not request_id:  # stored as NULL: never equal, never found
            return None
        return next((i for i in self._rows.values() if (i.creator, i.request_id) == (creator, request_id)), None)

    def title(self, investor_id: str) -> str | None:
        investor = self._rows.get(investor_id)
        return investor.profile.display_name if investor and not investor.is_deleted else None

    def titles(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self._rows[i].profile.display_name for i in set(ids) if i in self._rows}

    def add(self, investor: Investor) -> None:
        if self._by_request(investor.creator, investor.request_id) is not None:  # the unique key
            raise DuplicateRecord(f"request {investor.request_id!r} of {investor.creator} was used")
        insert_unique(self._rows, investor.id, investor, "investor")

    def save(self, investor: Investor) -> None:
        if investor.id in self._rows:
            self._rows[investor.id] = investor

    def list_after(self, query: InvestorQuery, window: ListWindow, viewer: str | None) -> DirectoryWindow[Investor]:
        return directory_window(
            (i for i in self._rows.values() if _matches(i, query, self._members.values())),
            window,
            lambda i: position(i, query.order),
            lambda i: i.id,
            viewer,
            self._members,
            descending=_DESCENDING[query.order],
            count_limit=COUNT_CAP,
        )


Event = RecordedEvent


class RecordingEvents(RecordingPageEvents):
    """The investor events, beside the shared membership ones (see RecordingPageEvents)."""

    def investor_created(self, investor: Investor, creator: str) -> None:
        self.record("InvestorCreated", investor.name, investor=investor, creator=creator)

    def investor_updated(self, investor: Investor, changed: list[str]) -> None:
        self.record("InvestorUpdated", investor.name, investor=investor, changed=list(changed))

    def investor_deleted(self, investor: Investor, deleter: str) -> None:
        self.record("InvestorDeleted", investor.name, deleter=deleter)


class FakeInvestorUow(MemoryUnitOfWork):
    investors: MemoryInvestors
    members: MemoryMembers
    invitations: MemoryInvitations
    events: RecordingEvents
    membership_events: RecordingEvents
    orphans: PageOrphanMarks[Investor]
    inbox: MemoryInbox
    unlocks: MemoryUnlocks

    def _open_repositories(self) -> None:
        members = self.table("members")
        self.investors = MemoryInvestors(self.table("investors"), members, self.table("page_unlocks"))
        self.members = MemoryMembers(members)
        self.invitations = MemoryInvitations(self.table("invitations"))
        self.events = RecordingEvents(self.table("outbox"))
        self.membership_events = self.events
        self.orphans = PageOrphanMarks(self.investors.get, self.investors.save, self.events.investor_updated)
        self.inbox = MemoryInbox(self.table("inbox"))
        self.unlocks = MemoryUnlocks(self.table("page_unlocks"))

    def page_title(self, page_id: str) -> str | None:
        return self.investors.title(page_id)

    def page_role(self, page_id: str, subject: str) -> PageRole | None:
        return live_member_role(self, page_id, subject)


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


def unit_settings(**overrides: object) -> InvestorSettings:
    """Settings of a use-case test: nothing in them is opened (no database, no port)."""
    values: dict[str, object] = {"database_url": "sqlite+pysqlite:///:memory:", **overrides}
    return InvestorSettings(**values)  # type: ignore[arg-type]


@dataclass
class World:
    """The investor app on the in-memory unit of work, with its fakes at hand."""

    app: InvestorApp
    store: MemoryStore
    clock: FakeClock
    unlocks: FakeUnlocks
    settings: InvestorSettings
    users: MemoryUsers  # the user service's users, as staff name them

    def events(self, kind: str = "") -> list[Event]:
        return published(self.store, kind)


def world(
    settings: InvestorSettings | None = None,
    now: datetime | None = None,
    uow: type[FakeInvestorUow] = FakeInvestorUow,
    entitlements: EntitlementsSource | None = None,
) -> World:
    """A fresh store, clock and billing; `uow` builds the unit of work (a test may wrap it); with
    `entitlements`, the pages' plans are enforced (seats, directory filters)."""
    settings = settings or unit_settings()
    store, clock, unlocks, users = MemoryStore(), FakeClock(now), FakeUnlocks(), MemoryUsers()
    app = build_app(settings, partial(uow, store), clock, ClaimsDirectory(), unlocks, users, entitlements)
    return World(app, store, clock, unlocks, settings, users)


MEMBER_ROLES = ("investor",)  # realm roles of the pages' members in these tests


def person(subject: str, roles: tuple[str, ...] = MEMBER_ROLES, email: str = "") -> Principal:
    return principal(subject, roles, email)


def new_profile(display_name: str = "Northwind Ventures", **fields: object) -> Profile:
    values: dict[str, object] = {"display_name": display_name, "category": 1, "investor_type": 1, **fields}
    return Profile(**values)  # type: ignore[arg-type]


@dataclass
class Page:
    """A page built through the use cases: its id, the subject of each member by role, and a
    pending invitation (its id, e-mail and mailed token) when asked for."""

    id: str
    members: dict[str, str] = field(default_factory=dict)  # role -> subject
    pending_invitation: str = ""
    pending_email: str = ""
    pending_token: str = ""

    @property
    def name(self) -> str:
        return f"investors/{self.id}"


def build_page(
    w: World,
    prefix: str,
    roles: tuple[str, ...] = ("admin", "editor", "viewer"),
    invite: bool = False,
    **fields: object,
) -> Page:
    """A page owned by `{prefix}-owner`, contact `deals@{prefix}.example`, with one member per role
    in `roles` (invited and accepted), and a pending viewer invitation with `invite`."""
    owner = person(f"{prefix}-owner")
    draft = new_profile(f"{prefix.title()} Capital", contact=Contact(email=f"deals@{prefix}.example"), **fields)
    page = Page(w.app.investors.create(owner, draft, "").investor.id, {"owner": owner.subject})
    for role in roles:
        subject = f"{prefix}-{role}"
        invitation = w.app.invitations.create(owner, page.id, f"{subject}@example.com", PageRole[role.upper()], "")
        token = mailed_token(w.store, f"{subject}@example.com")
        w.app.invitations.accept(person(subject), page.id, invitation.id, token)
        page.members[role] = subject
    if invite:
        page.pending_email = f"pending-{prefix}@example.com"
        invitation = w.app.invitations.create(owner, page.id, page.pending_email, PageRole.VIEWER, "")
        page.pending_invitation = invitation.id
        page.pending_token = mailed_token(w.store, page.pending_email)
    return page

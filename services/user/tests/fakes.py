"""The user service's in-memory unit of work (`ports.UserUnitOfWork`) for use-case tests without I/O.

Each repository keeps the SQL one's contract (tests/adapters proves both alike): unique keys raise
DuplicateRecord, also against rows another unit of work committed meanwhile (as a unique index
would), a stale `save` is CONCURRENT_UPDATE, lists are keyset windows by id. Events are rows of the
`events` table: they exist if and only if the unit of work that wrote them committed (the outbox).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from devinsider_common import errors
from devinsider_common.clock import as_utc
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.memory import MemoryStore, MemoryUnitOfWork, window_of
from devinsider_common.unit_of_work import DuplicateRecord
from user_service.bootstrap import build_app
from user_service.domain.blacklist import BlacklistEntry, BlacklistKind
from user_service.domain.model import User, UserState
from user_service.domain.reconciliation import KeycloakAccount
from user_service.domain.requests import ProVerification, ProVerificationState, SupportRequest
from user_service.service_layer.app import UserApp
from user_service.settings import UserSettings

WEBHOOK_SECRET = "test-webhook-secret"


class FakeStore(MemoryStore):
    """The committed tables, and `racers`: what a test runs just before the next row is added to a
    table (to commit a concurrent twin first, as a racing caller would); each runs once."""

    def __init__(self) -> None:
        super().__init__()
        self.racers: dict[str, Callable[[], object]] = {}

    def committed(self, table: str) -> dict[Any, Any]:
        return self.tables.get(table, {})

    def race(self, table: str) -> None:
        racer = self.racers.pop(table, None)
        if racer is not None:
            racer()


class Table:
    """A table of one unit of work: its copy of the rows, and the ids it saw when it opened (rows
    committed by others since then still meet its unique keys, as in a database)."""

    def __init__(self, store: FakeStore, name: str, rows: dict[Any, Any]) -> None:
        self.store, self.name, self.rows = store, name, rows
        self._seen = set(rows)

    def insert(self, row: Any, same: Callable[[Any], bool], what: str) -> None:
        """Add `row` by its id, or raise DuplicateRecord when a row has its id or another unique key."""
        self.store.race(self.name)
        others = [r for key, r in self.store.committed(self.name).items() if key not in self._seen]
        if any(other.id == row.id or same(other) for other in (*self.rows.values(), *others)):
            raise DuplicateRecord(f"{what} exists")
        self.rows[row.id] = row


def _by_id(rows: Iterable[Any], window: ListWindow) -> list[Any]:
    return window_of(rows, window, lambda row: (row.id,))


class FakeUsers:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._rows: dict[str, User] = table.rows

    def get(self, user_id: str) -> User | None:
        return self._rows.get(user_id)

    def get_by_subject(self, subject: str, lock: bool = False) -> User | None:
        return next((u for u in self._rows.values() if u.subject == subject), None)

    def add(self, user: User) -> None:
        self._table.insert(user, lambda other: other.subject == user.subject, "user")

    def save(self, user: User) -> User:
        stored = self._rows.get(user.id)
        if stored is None or stored.version != user.version:
            raise errors.Conflict(f"{user.name} changed concurrently; retry", reason="CONCURRENT_UPDATE")
        saved = replace(user, version=user.version + 1)
        self._rows[user.id] = saved
        return saved

    def list_after(self, window: ListWindow, email_suffix: str, state: UserState | None) -> list[User]:
        rows = [
            u
            for u in self._rows.values()
            if u.email.lower().endswith(email_suffix.lower()) and (state is None or u.state is state)
        ]
        return _by_id(rows, window)


class FakeProVerifications:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._rows: dict[str, ProVerification] = table.rows

    def add(self, request: ProVerification) -> None:
        """Unique: the id, the user's idempotency key, and the user's one pending request."""
        pending = ProVerificationState.PENDING

        def same(other: ProVerification) -> bool:
            key = request.idempotency_key
            return other.user_id == request.user_id and (
                bool(key and other.idempotency_key == key) or request.state is other.state is pending
            )

        self._table.insert(request, same, "pro verification")

    def get(self, request_id: str, lock: bool = False) -> ProVerification | None:
        return self._rows.get(request_id)

    def find(self, user_id: str, idempotency_key: str = "", pending: bool = False) -> ProVerification | None:
        for request in self._rows.values():
            if (
                request.user_id == user_id
                and (not idempotency_key or request.idempotency_key == idempotency_key)
                and (not pending or request.state is ProVerificationState.PENDING)
            ):
                return request
        return None

    def save_decision(self, request: ProVerification) -> None:
        stored = self._rows.get(request.id)
        if stored is not None:
            self._rows[request.id] = replace(
                stored,
                state=request.state,
                reviewer=request.reviewer,
                rejection_reason=request.rejection_reason,
                decided_at=request.decided_at,
            )

    def list_after(
        self, window: ListWindow, user_id: str | None, state: ProVerificationState | None
    ) -> list[ProVerification]:
        rows = [
            r
            for r in self._rows.values()
            if (user_id is None or r.user_id == user_id) and (state is None or r.state is state)
        ]
        return _by_id(rows, window)


class FakeSupportRequests:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._rows: dict[str, SupportRequest] = table.rows

    def add(self, request: SupportRequest) -> None:
        def same(other: SupportRequest) -> bool:
            key = request.idempotency_key
            return bool(key and (other.user_id, other.idempotency_key) == (request.user_id, key))

        self._table.insert(request, same, "support request")

    def find(self, user_id: str, idempotency_key: str) -> SupportRequest | None:
        return next(
            (r for r in self._rows.values() if (r.user_id, r.idempotency_key) == (user_id, idempotency_key)), None
        )

    def created_since(self, user_id: str, since: datetime, limit: int) -> list[datetime]:
        times = [r.created_at for r in self._rows.values() if r.user_id == user_id and r.created_at]
        return sorted((t for t in times if as_utc(t) > as_utc(since)), reverse=True)[:limit]

    def list_after(self, window: ListWindow) -> list[SupportRequest]:
        return _by_id(self._rows.values(), window)


class FakeBlacklist:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._rows: dict[str, BlacklistEntry] = table.rows

    def add(self, entry: BlacklistEntry) -> None:
        self._table.insert(
            entry, lambda other: (other.kind, other.value) == (entry.kind, entry.value), "blacklist entry"
        )

    def find(self, kind: BlacklistKind, value: str) -> BlacklistEntry | None:
        return next((e for e in self._rows.values() if (e.kind, e.value) == (kind, value)), None)

    def get(self, entry_id: str) -> BlacklistEntry | None:
        return self._rows.get(entry_id)

    def remove(self, entry_id: str) -> None:
        self._rows.pop(entry_id, None)

    def list_after(self, window: ListWindow, kind: BlacklistKind | None) -> list[BlacklistEntry]:
        return _by_id((e for e in self._rows.values() if kind is None or e.kind is kind), window)

    def matching(self, kind: BlacklistKind, candidates: set[str]) -> set[str]:
        return {e.value for e in self._rows.values() if e.kind is kind and e.value in candidates}


@dataclass(frozen=True)
class SeenEvent:
    id: str
    type: str
    received_at: datetime


class FakeKeycloakEvents:
    def __init__(self, table: Table) -> None:
        self._table = table

    def record(self, event_id: str, event_type: str, received_at: datetime) -> bool:
        try:
            self._table.insert(SeenEvent(event_id, event_type, received_at), lambda _: False, "keycloak event")
        except DuplicateRecord:
            return False
        return True


@dataclass(frozen=True)
class Published:
    """One event the use cases wrote: its kind, the name of its subject, what it says, and whether it
    went without its usual mail (`quiet`: a user created without a welcome)."""

    kind: str
    name: str
    detail: Any = None
    quiet: bool = False


class FakeEvents:
    def __init__(self, rows: dict[int, Published]) -> None:
        self._rows = rows

    def _add(self, event: Published) -> None:
        self._rows[len(self._rows)] = event

    def user_created(self, user: User, welcome: bool = True) -> None:
        self._add(Published("user_created", user.name, user, quiet=not welcome))

    def user_updated(self, user: User, changed: list[str]) -> None:
        self._add(Published("user_updated", user.name, tuple(changed)))

    def user_deleted(self, user: User) -> None:
        self._add(Published("user_deleted", user.name, user.subject))

    def pro_verification_changed(self, request: ProVerification, user: User) -> None:
        self._add(Published("pro_verification_changed", request.name, (request.state, user.email)))

    def support_request_created(self, request: SupportRequest, user: User) -> None:
        self._add(Published("support_request_created", request.name, user.email))

    def blacklist_changed(self, entry: BlacklistEntry, removed: bool) -> None:
        self._add(Published("blacklist_changed", entry.name, removed))


class FakeUserUnitOfWork(MemoryUnitOfWork):
    store: FakeStore
    users: FakeUsers
    pro_verifications: FakeProVerifications
    support_requests: FakeSupportRequests
    blacklist: FakeBlacklist
    keycloak_events: FakeKeycloakEvents
    events: FakeEvents

    def __init__(self, store: FakeStore, read_only: bool = False) -> None:
        super().__init__(store, read_only)

    def _open_repositories(self) -> None:
        def table(name: str) -> Table:
            return Table(self.store, name, self.table(name))

        self.users = FakeUsers(table("users"))
        self.pro_verifications = FakeProVerifications(table("pro_verifications"))
        self.support_requests = FakeSupportRequests(table("support_requests"))
        self.blacklist = FakeBlacklist(table("blacklist"))
        self.keycloak_events = FakeKeycloakEvents(table("keycloak_events"))
        self.events = FakeEvents(self.table("events"))


def published(store: FakeStore, kind: str | None = None) -> list[Published]:
    """The committed events, in order (of one kind when given)."""
    events = [store.committed("events")[i] for i in sorted(store.committed("events"))]
    return [e for e in events if kind is None or e.kind == kind]


class FakeKeycloak:
    """Keycloak's directory (`ports.KeycloakDirectory`) in memory: its accounts listed in pages of
    `page_size` until a short one, as the admin API is read. A test can fail a page (`fail_at`: its
    index; `fail_with`: the error, Keycloak unavailable by default), run something just before a page
    is read (`before_page`, a concurrent change), and keep accounts off every page while they still
    exist (`unlisted`: the pages shifted under a deletion)."""

    def __init__(self, *accounts: KeycloakAccount, page_size: int = 2) -> None:
        self.accounts: dict[str, KeycloakAccount] = {a.subject: a for a in accounts}
        self.page_size = page_size
        self.fail_at: int | None = None
        self.fail_with: type[errors.Unavailable] = errors.Unavailable
        self.before_page: dict[int, Callable[[], object]] = {}
        self.unlisted: set[str] = set()
        self.existence_checks: list[str] = []

    def put(self, *accounts: KeycloakAccount) -> None:
        self.accounts.update((a.subject, a) for a in accounts)

    def pages(self) -> Iterator[list[KeycloakAccount]]:
        index = 0
        while True:
            if index in self.before_page:
                self.before_page.pop(index)()
            if index == self.fail_at:
                raise self.fail_with(f"page {index} failed")
            listed = [a for a in self.accounts.values() if a.subject not in self.unlisted]
            page = listed[index * self.page_size : (index + 1) * self.page_size]
            yield page
            if len(page) < self.page_size:
                return
            index += 1

    def exists(self, subject: str) -> bool:
        self.existence_checks.append(subject)
        return subject in self.accounts


def fake_settings(**overrides: Any) -> UserSettings:
    values: dict[str, Any] = {"keycloak_webhook_secret": WEBHOOK_SECRET, "database_url": "sqlite://"}
    return UserSettings(**(values | overrides))


@dataclass
class World:
    """The user use cases on an in-memory store, with the clock the test moves."""

    app: UserApp
    store: FakeStore
    clock: FakeClock
    settings: UserSettings
    keycloak: FakeKeycloak | None = None

    def uow(self, read_only: bool = False) -> FakeUserUnitOfWork:
        return FakeUserUnitOfWork(self.store, read_only)

    def committed(self, table: str) -> list[Any]:
        return list(self.store.committed(table).values())


def world(keycloak: FakeKeycloak | None = None, **settings: Any) -> World:
    """A fresh store and clock; `settings` override the service's (page sizes, rate limits...); with
    `keycloak`, the reconciliation runs against it."""
    config = fake_settings(**settings)
    store, clock = FakeStore(), FakeClock()
    app = build_app(config, partial(FakeUserUnitOfWork, store), clock, keycloak)
    return World(app, store, clock, config, keycloak)

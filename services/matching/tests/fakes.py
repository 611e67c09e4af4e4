"""In-memory fakes of the matching service's ports: a unit of work honouring `ports.MatchingUnitOfWork`
(on `devinsider_common.testing.memory`), its repositories, recorded events, and the page services.

`tests/adapters/test_repositories.py` runs the same contract on these fakes and on the SQL unit of
work (PostgreSQL and SQLite), so a use-case test on the fakes says what the service does.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from devinsider_common import errors
from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.pages.ports import ClaimsDirectory, UserDirectory
from devinsider_common.pages.roles import PagePermission, PageRole, allows
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.entitlements import FakeEntitlements
from devinsider_common.testing.memory import MemoryInbox, MemoryStore, MemoryUnitOfWork, insert_unique, window_of
from devinsider_common.unit_of_work import DuplicateRecord, UnitOfWorkFactory
from matching_service.bootstrap import MIGRATIONS, build_app
from matching_service.domain.facts import PageFacts
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.social import Block, Favorite
from matching_service.domain.taxonomy import Criterion, Dimension, Taxonomy
from matching_service.service_layer.app import MatchingApp
from matching_service.settings import MatchingSettings

Table = dict[Any, Any]


@lru_cache(maxsize=1)
def seed_taxonomy() -> Taxonomy:
    """The taxonomy migration 0001 seeds, read from the migration's own data (no database)."""
    path = MIGRATIONS / "versions" / "0001_initial.py"
    spec = importlib.util.spec_from_file_location("matching_0001", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module._rows()
    items = tuple(
        Criterion(Dimension(r["dimension"]), r["code"], r["display_name"], r["parent"], r["rank"], r["deprecated"])
        for r in sorted(rows, key=lambda r: (r["dimension"], r["position"]))
    )
    return Taxonomy(1, datetime(2026, 11, 26, tzinfo=UTC), items)


# -- the store and its repositories -------------------------------------------------------------------


class MatchingStore(MemoryStore):
    """The committed state; the taxonomy versions are seeded (as the migrations do) and read only."""

    def __init__(self, taxonomies: Iterable[Taxonomy] = ()) -> None:
        super().__init__()
        self.taxonomies = {t.version: t for t in (tuple(taxonomies) or (seed_taxonomy(),))}

    def events(self, kind: str | None = None) -> list[tuple[str, tuple[Any, ...]]]:
        """The committed events, in order: (method of the publisher, its arguments)."""
        rows = [self.tables.get("events", {})[i] for i in sorted(self.tables.get("events", {}))]
        return [r for r in rows if kind is None or r[0] == kind]


class MemoryTaxonomy:
    def __init__(self, versions: dict[int, Taxonomy]) -> None:
        self._versions = versions

    def latest_version(self) -> int:
        return max(self._versions, default=0)

    def get(self, version: int) -> Taxonomy | None:
        return self._versions.get(version)


class MemoryProfiles:
    def __init__(self, table: Table) -> None:
        self._rows: dict[str, CriteriaProfile] = table

    def get(self, page: str) -> CriteriaProfile | None:
        return self._rows.get(page)

    def get_many(self, pages: Iterable[str]) -> dict[str, CriteriaProfile]:
        return {p: self._rows[p] for p in pages if p in self._rows}

    def all(self) -> Iterable[CriteriaProfile]:
        return list(self._rows.values())

    def save(self, profile: CriteriaProfile, exists: bool) -> None:
        if exists:
            if profile.page.name in self._rows:
                self._rows[profile.page.name] = profile
        else:
            insert_unique(self._rows, profile.page.name, profile, "profile")


class MemoryStatuses:
    def __init__(self, table: Table) -> None:
        self._rows: dict[str, tuple[PageStatus, datetime]] = table  # page -> (status, as of)

    def get_many(self, pages: Iterable[str]) -> dict[str, PageStatus]:
        return {p: self._rows[p][0] for p in pages if p in self._rows}

    def all(self) -> Iterable[PageStatus]:
        return [status for status, _ in self._rows.values()]

    def save(self, status: PageStatus, as_of: datetime, at: datetime) -> bool:
        stored = self._rows.get(status.page.name)
        if stored is not None and stored[1] > as_of:
            return False
        self._rows[status.page.name] = (status, as_of)
        return stored is None or stored[0] != status


def _next_id(table: Table) -> int:
    return max(table, default=0) + 1


class MemoryChanges:
    def __init__(self, table: Table) -> None:
        self._rows: dict[int, str] = table

    def record(self, pages: Iterable[str], at: datetime) -> None:
        for name in sorted(set(pages)):
            self._rows[_next_id(self._rows)] = name

    def last_seq(self) -> int:
        return max(self._rows, default=0)

    def since(self, seq: int, limit: int = 5000) -> list[tuple[int, str]]:
        return [(s, self._rows[s]) for s in sorted(self._rows) if s > seq][:limit]


def forget_creator(rows: dict[str, Any], subject: str) -> int:
    """A deleted account's subject erased from the rows (favorites or blocks) it created."""
    mine = [key for key, row in rows.items() if row.creator == subject]
    for key in mine:
        rows[key] = replace(rows[key], creator="")
    return len(mine)


class MemoryFavorites:
    def __init__(self, table: Table) -> None:
        self._rows: dict[str, Favorite] = table

    def forget_creator(self, subject: str) -> int:
        return forget_creator(self._rows, subject)

    def find(self, owner: str, page: str) -> Favorite | None:
        return next((f for f in self._rows.values() if (f.owner.name, f.page.name) == (owner, page)), None)

    def get(self, owner: str, favorite_id: str) -> Favorite | None:
        found = self._rows.get(favorite_id)
        return found if found is not None and found.owner.name == owner else None

    def add(self, favorite: Favorite) -> None:
        if any((f.owner, f.page) == (favorite.owner, favorite.page) for f in self._rows.values()):
            raise DuplicateRecord(f"{favorite.owner.name} already favors {favorite.page.name}")
        insert_unique(self._rows, favorite.id, favorite, "favorite")

    def remove(self, favorite_id: str) -> None:
        self._rows.pop(favorite_id, None)

    def list_after(self, owner: str, window: ListWindow, kind: PageKind | None) -> list[Favorite]:
        rows = [f for f in self._rows.values() if f.owner.name == owner and (kind is None or f.page.kind is kind)]
        return window_of(rows, window, lambda f: (f.id,), descending=True)

    def pages_of(self, owner: str) -> set[str]:
        return {f.page.name for f in self._rows.values() if f.owner.name == owner}


class MemoryBlocks:
    def __init__(self, table: Table) -> None:
        self._rows: dict[str, Block] = table

    def forget_creator(self, subject: str) -> int:
        return forget_creator(self._rows, subject)

    def find(self, blocker: str, page: str) -> Block | None:
        return next((b for b in self._rows.values() if (b.blocker.name, b.page.name) == (blocker, page)), None)

    def get(self, blocker: str, block_id: str) -> Block | None:
        found = self._rows.get(block_id)
        return found if found is not None and found.blocker.name == blocker else None

    def add(self, block: Block) -> None:
        if any((b.blocker, b.page) == (block.blocker, block.page) for b in self._rows.values()):
            raise DuplicateRecord(f"{block.blocker.name} already blocks {block.page.name}")
        insert_unique(self._rows, block.id, block, "block")

    def remove(self, block_id: str) -> None:
        self._rows.pop(block_id, None)

    def list_after(self, blocker: str, window: ListWindow) -> list[Block]:
        rows = [b for b in self._rows.values() if b.blocker.name == blocker]
        return window_of(rows, window, lambda b: (b.id,), descending=True)

    def either_way(self, a: str, b: str) -> bool:
        return any((x.blocker.name, x.page.name) in {(a, b), (b, a)} for x in self._rows.values())

    def counterparts(self, page: str) -> set[str]:
        mine = {b.page.name for b in self._rows.values() if b.blocker.name == page}
        return mine | {b.blocker.name for b in self._rows.values() if b.page.name == page}


class MemoryNotified:
    def __init__(self, table: Table) -> None:
        self._rows: dict[tuple[str, str], tuple[float, datetime]] = table

    def claim(self, company: str, target: str, score: float, at: datetime) -> bool:
        if (company, target) in self._rows:
            return False
        self._rows[(company, target)] = (score, at)
        return True


class MemoryAnnouncements:
    def __init__(self, table: Table) -> None:
        self._rows: dict[int, str] = table

    def request(self, page: str, at: datetime) -> None:
        self._rows[_next_id(self._rows)] = page

    def claim(self, limit: int, page: str | None = None) -> list[tuple[int, str]]:
        return [(i, p) for i, p in sorted(self._rows.items()) if page is None or p == page][:limit]

    def done(self, ids: Iterable[int]) -> None:
        for i in ids:
            self._rows.pop(i, None)

    def pages(self) -> list[str]:
        return [self._rows[i] for i in sorted(self._rows)]


class RecordedEvents:
    """`ports.MatchingEvents` writing (method, arguments) rows: committed or dropped with the unit of work."""

    def __init__(self, table: Table) -> None:
        self._rows: dict[int, tuple[str, tuple[Any, ...]]] = table

    def _add(self, kind: str, *args: Any) -> None:
        self._rows[_next_id(self._rows)] = (kind, args)

    def profile_updated(self, profile: CriteriaProfile, changed: list[str]) -> None:
        self._add("profile_updated", profile, list(changed))

    def block_created(self, block: Block) -> None:
        self._add("block_created", block)

    def block_deleted(self, block: Block) -> None:
        self._add("block_deleted", block)

    def match_found(
        self,
        company: PageName,
        target: PageName,
        score: float,
        company_status: PageStatus | None,
        target_status: PageStatus | None,
    ) -> None:
        self._add("match_found", company, target, score, company_status, target_status)


class FakeMatchingUnitOfWork(MemoryUnitOfWork):
    """The matching unit of work in memory (see `devinsider_common.testing.memory`)."""

    store: MatchingStore

    def __init__(self, store: MatchingStore, read_only: bool = False) -> None:
        super().__init__(store, read_only)

    def _open_repositories(self) -> None:
        self.taxonomy = MemoryTaxonomy(self.store.taxonomies)
        self.profiles = MemoryProfiles(self.table("profiles"))
        self.statuses = MemoryStatuses(self.table("statuses"))
        self.changes = MemoryChanges(self.table("changes"))
        self.favorites = MemoryFavorites(self.table("favorites"))
        self.blocks = MemoryBlocks(self.table("blocks"))
        self.notified = MemoryNotified(self.table("notified"))
        self.announcements = MemoryAnnouncements(self.table("announcements"))
        self.events = RecordedEvents(self.table("events"))
        self.inbox = MemoryInbox(self.table("inbox"))

    def hidden_and_favorites(self, page: str) -> tuple[set[str], set[str]]:
        return self.blocks.counterparts(page), self.favorites.pages_of(page)


# -- the page services -----------------------------------------------------------------------------------


@dataclass
class FakePageDirectory:
    """`ports.PageDirectory`: the pages the company, investor and program services know, their members,
    the batch calls received (one per owning service and call) and the summaries dropped."""

    pages: dict[str, PageStatus] = field(default_factory=dict)
    members: dict[str, dict[str, PageRole]] = field(default_factory=dict)
    batch_calls: list[tuple[PageKind, tuple[str, ...]]] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)  # pages whose cached summary was dropped

    def add(self, name: str, owner: str = "", **status: Any) -> PageStatus:
        """An active page (complete for both kinds of matchmaking unless told), named after its id, stating
        no facts unless told (`facts`; None: a status without facts, as stored before migration 0004)."""
        page = parse_page(name, "name")
        values: dict[str, Any] = {"active": True, "program_complete": True, "investor_complete": True}
        values["facts"] = PageFacts()
        values["display_name"] = name.split("/")[1]
        self.pages[name] = PageStatus(page, **(values | status))
        if owner:
            self.members.setdefault(name, {})[owner] = PageRole.OWNER
        return self.pages[name]

    def update(self, name: str, **status: Any) -> None:
        self.pages[name] = replace(self.pages[name], **status)

    def role(self, page: str, subject: str) -> PageRole | None:
        return self.members.get(page, {}).get(subject) if page in self.pages else None

    def require(self, page: str, subject: str, permission: PagePermission) -> PageRole:
        role = self.role(page, subject)
        if role is None or not allows(role, permission):
            raise errors.PermissionDenied(
                f"this needs the {permission.name.lower()} permission on {page}", reason="PAGE_PERMISSION_DENIED"
            )
        return role

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool:
        role = self.role(page, subject)
        return role is not None and allows(role, permission)

    def statuses(self, names: Iterable[str]) -> dict[str, PageStatus]:
        grouped: dict[PageKind, list[str]] = {}
        for name in dict.fromkeys(names):
            kind = PageKind.of(name)
            if kind is not None:
                grouped.setdefault(kind, []).append(name)
        found: dict[str, PageStatus] = {}
        for kind, wanted in grouped.items():
            self.batch_calls.append((kind, tuple(wanted)))
            found |= {n: self.pages[n] for n in wanted if n in self.pages}
        return found

    def summaries(self, names: Iterable[str]) -> dict[str, PageStatus]:
        return self.statuses(names)  # the cache is the adapter's (tests/adapters/test_page_directory.py)

    def forget(self, page: str) -> None:
        self.forgotten.append(page)


def matching_settings(**overrides: Any) -> MatchingSettings:
    return MatchingSettings(database_url="sqlite://", **overrides)


@dataclass
class World:
    """A matching app on the fakes, and the fakes to arrange and inspect."""

    store: MatchingStore = field(default_factory=MatchingStore)
    pages: FakePageDirectory = field(default_factory=FakePageDirectory)
    clock: FakeClock = field(default_factory=FakeClock)
    users: UserDirectory = field(default_factory=ClaimsDirectory)
    settings: MatchingSettings = field(default_factory=matching_settings)
    uow: UnitOfWorkFactory[FakeMatchingUnitOfWork] | None = None
    entitlements: FakeEntitlements = field(default_factory=FakeEntitlements)

    def __post_init__(self) -> None:
        self.app: MatchingApp = build_app(
            self.settings, self.uow or self.read, self.clock, self.pages, self.users, self.entitlements
        )

    def read(self, read_only: bool = False) -> FakeMatchingUnitOfWork:
        """A unit of work on the store (to look at what the use cases committed)."""
        return FakeMatchingUnitOfWork(self.store, read_only)

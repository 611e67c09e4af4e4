"""What the use cases need from the outside world, as ports: the unit of work and its repositories
(SQL: `unit_of_work.SqlMatchingUnitOfWork`; tests: `tests/fakes.py`) and the page services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider_common.consumer import Inbox
from devinsider_common.entitlements import EntitlementsSource as EntitlementsSource  # billing's word on a page
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import UnitOfWork
from matching_service.domain.pages import PageChange, PageStatus
from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.social import Block, Favorite
from matching_service.domain.taxonomy import Taxonomy

# -- repositories ------------------------------------------------------------------------------------


class TaxonomyStore(Protocol):
    """The taxonomy versions the migrations seed (read only)."""

    def latest_version(self) -> int: ...

    def get(self, version: int) -> Taxonomy | None: ...


class ProfileStore(Protocol):
    def get(self, page: str) -> CriteriaProfile | None: ...

    def get_many(self, pages: Iterable[str]) -> dict[str, CriteriaProfile]: ...

    def all(self) -> Iterable[CriteriaProfile]: ...

    def save(self, profile: CriteriaProfile, exists: bool) -> None:
        """Insert (`exists` false: DuplicateRecord if a twin was stored meanwhile) or update."""
        ...


class StatusStore(Protocol):
    """The page statuses matching last learnt from the owning services (their events, their BatchGet*),
    each with the time it holds as of."""

    def get_many(self, pages: Iterable[str]) -> dict[str, PageStatus]: ...

    def all(self) -> Iterable[PageStatus]: ...

    def save(self, status: PageStatus, as_of: datetime, at: datetime) -> bool:
        """Store `status`, which holds as of `as_of` (an event's occur time, or the time its service was
        asked), at `at`; unless the stored one holds as of a later time (then nothing changes). True when
        it changed what matching decides on (gates, summaries, the page's facts); an equal status only
        moves `as_of` on."""
        ...


class ChangeStore(Protocol):
    """The change log every replica's index follows (sequence numbers commit in order)."""

    def record(self, pages: Iterable[str], at: datetime) -> None: ...

    def last_seq(self) -> int: ...

    def since(self, seq: int, limit: int = 5000) -> list[tuple[int, str]]:
        """(seq, page) of the changes after `seq`, oldest first."""
        ...


class FavoriteStore(Protocol):
    def find(self, owner: str, page: str) -> Favorite | None: ...

    def get(self, owner: str, favorite_id: str) -> Favorite | None: ...

    def add(self, favorite: Favorite) -> None:
        """DuplicateRecord when the owner already has the page among its favorites."""
        ...

    def remove(self, favorite_id: str) -> None: ...

    def list_after(self, owner: str, window: ListWindow, kind: PageKind | None) -> list[Favorite]:
        """Newest first (ids sort by creation time), `window.size + 1` at most after `window.after`."""
        ...

    def pages_of(self, owner: str) -> set[str]: ...

    def forget_creator(self, subject: str) -> int:
        """Erase `subject` (a deleted account) from the favorites it created; how many."""
        ...


class BlockStore(Protocol):
    def find(self, blocker: str, page: str) -> Block | None: ...

    def get(self, blocker: str, block_id: str) -> Block | None: ...

    def add(self, block: Block) -> None:
        """DuplicateRecord when the blocker already blocks the page."""
        ...

    def remove(self, block_id: str) -> None: ...

    def list_after(self, blocker: str, window: ListWindow) -> list[Block]:
        """Newest first, `window.size + 1` at most after `window.after`."""
        ...

    def either_way(self, a: str, b: str) -> bool: ...

    def forget_creator(self, subject: str) -> int:
        """Erase `subject` (a deleted account) from the blocks it created; how many."""
        ...

    def counterparts(self, page: str) -> set[str]:
        """Every page this page blocked or was blocked by."""
        ...


class NotifiedStore(Protocol):
    """The pairs already announced (MatchFound)."""

    def claim(self, company: str, target: str, score: float, at: datetime) -> bool:
        """Record the pair as announced; False when it already was (also by a concurrent transaction)."""
        ...


class AnnouncementStore(Protocol):
    """Pages whose change still owes its round of MatchFound events."""

    def request(self, page: str, at: datetime) -> None: ...

    def claim(self, limit: int, page: str | None = None) -> list[tuple[int, str]]:
        """(id, page) of the oldest pending rows (of `page` only when given), held until the end of
        the unit of work; rows another drainer holds are skipped."""
        ...

    def done(self, ids: Iterable[int]) -> None: ...

    def pages(self) -> list[str]:
        """Every page with a pending row, oldest first."""
        ...


class MatchingEvents(Protocol):
    """The service's events, written to its outbox in the unit of work's transaction."""

    def profile_updated(self, profile: CriteriaProfile, changed: list[str]) -> None: ...

    def block_created(self, block: Block) -> None: ...

    def block_deleted(self, block: Block) -> None: ...

    def match_found(
        self,
        company: PageName,
        target: PageName,
        score: float,
        company_status: PageStatus | None,
        target_status: PageStatus | None,
    ) -> None: ...


class MatchingUnitOfWork(UnitOfWork, Protocol):
    """One transaction over the matching service's repositories, its outbox and its inbox."""

    @property
    def inbox(self) -> Inbox: ...

    @property
    def taxonomy(self) -> TaxonomyStore: ...

    @property
    def profiles(self) -> ProfileStore: ...

    @property
    def statuses(self) -> StatusStore: ...

    @property
    def changes(self) -> ChangeStore: ...

    @property
    def favorites(self) -> FavoriteStore: ...

    @property
    def blocks(self) -> BlockStore: ...

    @property
    def notified(self) -> NotifiedStore: ...

    @property
    def announcements(self) -> AnnouncementStore: ...

    @property
    def events(self) -> MatchingEvents: ...

    def hidden_and_favorites(self, page: str) -> tuple[set[str], set[str]]:
        """`blocks.counterparts(page)` and `favorites.pages_of(page)` in one statement (a match list)."""
        ...


# -- other services ------------------------------------------------------------------------------------


class PageDirectory(Protocol):
    """The owning services of pages (company, investor, program)."""

    def require(self, page: str, subject: str, permission: PagePermission) -> PageRole:
        """The caller's role on `page` if it grants `permission`; PermissionDenied otherwise (also for an
        unknown page: permission comes before existence)."""
        ...

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool:
        """Whether the user holds `permission` on `page`."""
        ...

    def statuses(self, names: Iterable[str]) -> dict[str, PageStatus]:
        """Status and summary of each existing page, one batch call per owning service; unknown or
        deleted pages are left out."""
        ...

    def summaries(self, names: Iterable[str]) -> dict[str, PageStatus]:
        """`statuses`, for what lists show: may be answered from a cache, for the pages it holds, as
        stale as the page's last event (which `forget`s it) or its TTL."""
        ...

    def forget(self, page: str) -> None:
        """Drop what `summaries` cached of `page` (its page event arrived)."""
        ...


class PageEventReader(Protocol):
    """The page services' events (company, investor, program), read as page changes."""

    def __call__(self, envelope: EventEnvelope) -> PageChange | None:
        """The change of a page's status `envelope` reports (created, updated, deleted); None for the
        other events of those services (members, invitations...); ValueError when it cannot be read."""
        ...

"""What the investor use cases need from the world, as Protocols: their unit of work (the pages,
members and invitations of one transaction, and the events it records) and the other services
they ask (billing's unlocks, the user directory). The SQL unit of work and the real clients are
wired by the bootstrap; the tests pass in-memory fakes (tests/fakes.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from devinsider_common.pages.model import DirectoryWindow, PageForViewer
from devinsider_common.pages.ports import (
    InvitationStore,
    MembershipEvents,
    MembershipUnitOfWork,
    MemberStore,
)
from devinsider_common.pages.ports import UserDirectory as UserDirectory
from devinsider_common.pages.ports import UserLookup as UserLookup
from devinsider_common.pages.unlocks import UnlockChecker as UnlockChecker
from devinsider_common.pages.unlocks import UnlockStore
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from investor_service.domain.model import Investor
from investor_service.domain.query import InvestorQuery


class InvestorStore(Protocol):
    """Investor pages (SQL: `adapters.investor_repository.InvestorRepository`)."""

    def get(self, investor_id: str, lock: bool = False) -> Investor | None:
        """The page, deleted or not; None when unknown."""
        ...

    def get_for_viewer(self, investor_id: str, subject: str | None) -> PageForViewer[Investor] | None:
        """The page (deleted or not) with the role of the viewer `subject` and the pages that unlocked it,
        read in one statement; None when unknown."""
        ...

    def get_many(self, ids: Sequence[str]) -> dict[str, Investor]: ...

    def find_by_request(self, creator: str, request_id: str) -> Investor | None:
        """The page `creator` created with this idempotency key."""
        ...

    def title(self, investor_id: str) -> str | None:
        """The display name of a live page; None when unknown or deleted."""
        ...

    def titles(self, ids: Sequence[str]) -> dict[str, str]:
        """Display names by id, deleted pages included."""
        ...

    def add(self, investor: Investor) -> None:
        """Raises DuplicateRecord when the creator already used the page's request id."""
        ...

    def save(self, investor: Investor) -> None: ...

    def list_after(self, query: InvestorQuery, window: ListWindow, viewer: str | None) -> DirectoryWindow[Investor]:
        """`window.size + 1` pages at most matching `query`, in its order, after the window's position, with
        the role of `viewer` (a subject) on each; and how many pages match (capped: above the cap the cap is
        the estimate)."""
        ...


class InvestorEvents(MembershipEvents, Protocol):
    """The events of an investor page (recorded in the unit of work, published after its commit)."""

    def investor_created(self, investor: Investor, creator: str) -> None: ...

    def investor_updated(self, investor: Investor, changed: list[str]) -> None: ...

    def investor_deleted(self, investor: Investor, deleter: str) -> None: ...


class InvestorUnitOfWork(UnitOfWork, MembershipUnitOfWork, Protocol):
    """One transaction on the investor service's store; also the shared page use cases' unit of work."""

    @property
    def investors(self) -> InvestorStore: ...

    @property
    def members(self) -> MemberStore: ...

    @property
    def invitations(self) -> InvitationStore: ...

    @property
    def events(self) -> InvestorEvents: ...

    @property
    def membership_events(self) -> MembershipEvents: ...

    @property
    def unlocks(self) -> UnlockStore:
        """Who unlocked which page (written by the unlock projection's consumer, read with the page)."""
        ...

    def page_title(self, page_id: str) -> str | None:
        """The page's display name, or None when it does not exist (or is deleted)."""
        ...


UowFactory = UnitOfWorkFactory[InvestorUnitOfWork]

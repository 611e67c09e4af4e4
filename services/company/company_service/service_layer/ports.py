"""What the company use cases need from the world, as Protocols: their unit of work (the pages,
members and invitations of one transaction, and the events it records) and the other services or
stores they use (who unlocked a page, the user directory, a place for logos). The bootstrap wires
the SQL unit of work and the real adapters; the tests pass in-memory fakes (tests/fakes.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from company_service.domain.directory import DirectoryQuery
from company_service.domain.model import Claim, Company
from devinsider_common.pages.model import DirectoryWindow, Member, PageForViewer
from devinsider_common.pages.ports import InvitationStore, MembershipEvents, MembershipUnitOfWork, MemberStore
from devinsider_common.pages.ports import UserDirectory as UserDirectory
from devinsider_common.pages.ports import UserLookup as UserLookup
from devinsider_common.pages.unlocks import UnlockChecker as UnlockChecker
from devinsider_common.pages.unlocks import UnlockStore
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import UnitOfWork, UnitOfWorkFactory

Clock = Callable[[], datetime]


class CompanyStore(Protocol):
    """Company pages (SQL: `adapters.company_repository.CompanyRepository`; tests: `fakes.MemoryCompanies`)."""

    def get(self, company_id: str, lock: bool = False) -> Company | None:
        """The page, deleted or not; None when unknown."""
        ...

    def get_for_viewer(self, company_id: str, subject: str | None) -> PageForViewer[Company] | None:
        """The page (deleted or not) with the role of the viewer `subject` and the pages that unlocked it,
        read in one statement; None when unknown."""
        ...

    def get_many(self, ids: Sequence[str]) -> dict[str, Company]: ...

    def by_idempotency_key(self, creator: str, key: str) -> Company | None:
        """The page `creator` created with this request id."""
        ...

    def live_founded_by(self, subject: str) -> Company | None:
        """The page, not deleted, that `subject` founded (created or claimed)."""
        ...

    def title(self, company_id: str) -> str | None:
        """The display name of a live page; None when unknown or deleted."""
        ...

    def titles(self, ids: Sequence[str]) -> dict[str, str]:
        """Display names by id, deleted pages included."""
        ...

    def add(self, company: Company) -> None:
        """Raises DuplicateRecord when the creator already used the request id, or when the page's
        founder already founded a live page."""
        ...

    def save(self, company: Company) -> Company:
        """Write `company` unless it changed since it was read (CONFLICT), with its version bumped;
        raises DuplicateRecord when its founder already founded another live page."""
        ...

    def list_after(self, query: DirectoryQuery, window: ListWindow, viewer: str | None) -> DirectoryWindow[Company]:
        """`window.size + 1` pages at most matching `query`, in its order, after the window's position, with
        the role of `viewer` (a subject) on each; and how many pages match, counted up to TOTAL_SIZE_CAP + 1."""
        ...


class CompanyEvents(MembershipEvents, Protocol):
    """The events of a company page (recorded in the unit of work, published after its commit)."""

    def company_created(self, company: Company, creator: str) -> None: ...

    def company_updated(self, company: Company, changed: list[str]) -> None: ...

    def company_deleted(self, company: Company, deleter: str) -> None: ...

    def claim_requested(self, company: Company, claim: Claim) -> None: ...

    def claim_decided(self, company: Company, claim: Claim, approved: bool, reason: str = "") -> None: ...

    def member_removed_with_page(self, member: Member) -> None: ...


class CompanyUnitOfWork(UnitOfWork, MembershipUnitOfWork, Protocol):
    """One transaction on the company service's store; also the shared page use cases' unit of work."""

    @property
    def companies(self) -> CompanyStore: ...

    @property
    def members(self) -> MemberStore: ...

    @property
    def invitations(self) -> InvitationStore: ...

    @property
    def events(self) -> CompanyEvents: ...

    @property
    def membership_events(self) -> MembershipEvents: ...

    @property
    def unlocks(self) -> UnlockStore:
        """Who unlocked which page (written by the unlock projection's consumer, read with the page)."""
        ...

    def page_title(self, page_id: str) -> str | None:
        """The page's display name, or None when it does not exist (or is deleted)."""
        ...


UowFactory = UnitOfWorkFactory[CompanyUnitOfWork]


class LogoStorage(Protocol):
    """Where logo bytes live (local disk by default; an object store in production)."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

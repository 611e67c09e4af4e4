"""Orphaned pages, written once for the company, investor and program services.

A page whose sole owner's account is deleted with no other member to succeed them (`departures`) is
marked orphaned: `orphaned_at` on the service's page row, `orphan_time` in its messages, recorded with
the page's `*Updated` event in the same transaction. Platform staff (and services) find the marked pages
with the List RPCs' `orphaned` filter and give one an owner with `Assign<Page>Owner` (`PageOwners`),
which clears the mark; so does an invitation to the owner role accepted meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, cast

import structlog

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.clock import as_utc
from devinsider_common.pages.membership import Clock, UowFactory, ensure_page
from devinsider_common.pages.model import Member
from devinsider_common.pages.ports import DirectoryUser, MembershipUnitOfWork, UserLookup
from devinsider_common.pages.roles import PageRole
from devinsider_common.unit_of_work import create_once

log = structlog.get_logger("devinsider.pages.orphans")

# The page messages' field, as the `*Updated` event's `changed_fields` names it.
ORPHAN_TIME = "orphan_time"


class OrphanablePage(Protocol):
    """What the mark needs of a page (Company, Investor, Program: frozen dataclasses)."""

    @property
    def orphaned_at(self) -> datetime | None: ...

    @property
    def is_deleted(self) -> bool: ...


P = TypeVar("P", bound=OrphanablePage)


class PageOrphanMarks(Generic[P]):
    """The `PageOrphans` port over a service's own page store (`get` with a row lock, `save`) and its
    `*Updated` event, so the three services keep the mark by one implementation. The page's
    `updated_at` moves with the mark."""

    def __init__(
        self,
        get: Callable[[str, bool], P | None],
        save: Callable[[P], P | None],
        updated: Callable[[P, list[str]], None],
    ) -> None:
        self._get = get
        self._save = save
        self._updated = updated

    def _live(self, page_id: str, lock: bool) -> P | None:
        page = self._get(page_id, lock)
        return None if page is None or page.is_deleted else page

    def orphaned_at(self, page_id: str) -> datetime | None:
        page = self._live(page_id, False)
        return as_utc(page.orphaned_at) if page is not None and page.orphaned_at is not None else None

    def mark(self, page_id: str, now: datetime) -> bool:
        return self._set(page_id, now, now)

    def clear(self, page_id: str, now: datetime) -> bool:
        return self._set(page_id, None, now)

    def _set(self, page_id: str, orphaned_at: datetime | None, now: datetime) -> bool:
        page = self._live(page_id, True)
        # Only a change is written: a replayed departure leaves the first mark where it is.
        if page is None or (page.orphaned_at is None) == (orphaned_at is None):
            return False
        changed: P = replace(cast(Any, page), orphaned_at=orphaned_at, updated_at=now)
        saved = self._save(changed)
        self._updated(saved if saved is not None else changed, [ORPHAN_TIME])
        return True


def check_orphan_filter(principal: Principal | None, orphaned: bool) -> None:
    """The List RPCs' `orphaned` filter is a tool of platform staff (and services) only."""
    if orphaned and not (principal is not None and principal.is_staff_or_service):
        raise errors.PermissionDenied(
            "only platform staff list orphaned pages: drop the `orphaned` filter", reason="ORPHAN_FILTER_STAFF_ONLY"
        )


def assignable(found: DirectoryUser | None, user: str) -> DirectoryUser:
    """The user staff name as a page's owner, when the platform lets them in."""
    if found is None:
        raise errors.NotFound(f"{user} does not exist or was deleted", reason="USER_NOT_FOUND", metadata={"user": user})
    if found.refusal:
        raise errors.FailedPrecondition(
            f"{user} may not use DevInsider ({found.refusal}): it cannot own a page",
            reason="USER_NOT_ALLOWED",
            metadata={"user": user, "access_reason": found.refusal},
        )
    return found


class PageOwners:
    """Staff give a page an owner (`Assign<Page>Owner`): the way out of the orphaned state.

    The user comes from the user service (`UserLookup`), as a claimant or an invitee would be
    described; they join as owner, or a member is promoted. Other owners keep their role: on a page
    that has owners the user is one more. A page that never had an owner (a company pre-listed or
    claimed) is refused: its owner comes from a claim. The same user again writes nothing.
    """

    def __init__(self, uow: UowFactory, clock: Clock, users: UserLookup) -> None:
        self._uow = uow
        self._clock = clock
        self._users = users

    def assign(self, principal: Principal, page_id: str, user: str) -> Member:
        # The access policy admits staff and services only; checked again so no other caller reaches it.
        if not principal.is_staff_or_service:
            raise errors.PermissionDenied("only platform staff assign page owners", reason="STAFF_ONLY")
        found = assignable(self._users.find(user), user)  # before the transaction: it asks the user service
        # Two concurrent assignments of the same user: the loser meets the members' primary key and
        # answers with the winner's owner.
        owner = create_once(lambda: self._assign(page_id, found), lambda: self._owner(page_id, found.subject))
        log.info("page.owner_assigned", page=page_id, owner=owner.subject, by=principal.subject)
        return owner

    def _assign(self, page_id: str, found: DirectoryUser) -> Member:
        now = self._clock()
        with self._uow() as uow:
            ensure_page(uow, page_id)
            current = uow.members.get(page_id, found.subject, lock=True)
            # The owners first: their lock waits for a departure under way, whose mark is then seen.
            if uow.members.owner_count(page_id, lock=True) == 0 and uow.orphans.orphaned_at(page_id) is None:
                raise errors.FailedPrecondition(
                    "this page never had an owner: it gets one by a claim, not an assignment",
                    reason="PAGE_NEVER_OWNED",
                )
            owner = self._make_owner(uow, page_id, current, found, now)
            uow.orphans.clear(page_id, now)
            uow.commit()
        return owner

    @staticmethod
    def _make_owner(
        uow: MembershipUnitOfWork, page_id: str, current: Member | None, found: DirectoryUser, now: datetime
    ) -> Member:
        if current is None:
            owner = Member(
                page_id, found.subject, PageRole.OWNER, found.user, found.display_name, found.email, now, now
            )
            uow.members.add(owner)
            uow.membership_events.member_added(owner, None)
            return owner
        if current.role is PageRole.OWNER:
            return current
        promoted = replace(current, role=PageRole.OWNER, user=current.user or found.user, updated_at=now)
        uow.members.save(promoted)
        uow.membership_events.member_updated(promoted, current.role)
        return promoted

    def _owner(self, page_id: str, subject: str) -> Member | None:
        with self._uow(read_only=True) as uow:
            member = uow.members.get(page_id, subject)
        return member if member is not None and member.role is PageRole.OWNER else None

"""Use cases on investor pages: create, read (public or member view), list, update, delete.

Members and invitations are the shared page use cases (devinsider_common.pages), run on this
service's unit of work. Permission is checked before existence on every page call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.directory_filters import DirectoryFilterGate
from devinsider_common.pages.membership import PageMembers, authorize, ensure_page
from devinsider_common.pages.orphans import check_orphan_filter
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.unit_of_work import DuplicateRecord, create_once
from investor_service.domain.enums import InvestorState
from investor_service.domain.model import Investor, InvestorView, Profile
from investor_service.domain.query import InvestorList, InvestorQuery, check_position, position
from investor_service.service_layer.ports import InvestorUnitOfWork, UnlockChecker, UowFactory

Clock = Callable[[], datetime]
MAX_BATCH = 200


class InvestorUseCases:
    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        limits: ListLimits,
        members: PageMembers,
        unlocks: UnlockChecker,
        filters: DirectoryFilterGate | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits
        self._members = members
        self._unlocks = unlocks
        self._filters = filters or DirectoryFilterGate()

    def create(self, principal: Principal, draft: Profile, request_id: str) -> InvestorView:
        """A new page owned by the caller; the same `request_id` again returns the same page."""
        profile = Investor.validate_new(draft)
        return create_once(
            lambda: self._create(principal, profile, request_id),
            lambda: self._created_by(principal, request_id),
            _concurrent_create,
        )

    def _create(self, principal: Principal, profile: Profile, request_id: str) -> InvestorView:
        investor_id = new_id()
        # Describing the owner may ask the user service: done before the transaction, never inside it.
        owner = self._members.new_member(principal, investor_id, PageRole.OWNER)
        with self._uow() as uow:
            if request_id:
                existing = self._find_created(uow, principal, request_id)
                if existing is not None:
                    return existing
            now = self._clock()
            investor = Investor(
                investor_id, profile, principal.subject, created_at=now, updated_at=now, request_id=request_id
            )
            uow.investors.add(investor)
            uow.members.add(owner)
            uow.events.investor_created(investor, principal.subject)
            uow.events.member_added(owner, None)
            uow.commit()
        return InvestorView(investor, full=True, role=PageRole.OWNER)

    def _created_by(self, principal: Principal, request_id: str) -> InvestorView | None:
        """The twin a concurrent retry with the same `request_id` stored (none without a key)."""
        if not request_id:
            return None
        with self._uow(read_only=True) as uow:
            return self._find_created(uow, principal, request_id)

    @staticmethod
    def _find_created(uow: InvestorUnitOfWork, principal: Principal, request_id: str) -> InvestorView | None:
        existing = uow.investors.find_by_request(principal.subject, request_id)
        if existing is None:
            return None
        member = uow.members.get(existing.id, principal.subject)
        return InvestorView(existing, full=True, role=member.role if member else None)

    def get(self, principal: Principal | None, investor_id: str) -> InvestorView:
        with self._uow(read_only=True) as uow:  # one statement: the page, the caller's role, its unlockers
            seen = uow.investors.get_for_viewer(investor_id, principal.subject if principal else None)
        staff = principal is not None and principal.is_staff_or_service
        if seen is None or (seen.page.is_deleted and not staff):
            raise _not_found(investor_id)
        investor, role = seen.page, seen.role
        full = role is not None or staff
        if not full and principal is not None:  # did one of the viewer's organisations unlock it?
            full = self._unlocks.has_unlocked(investor.name, principal.subject, seen.unlockers)
        return InvestorView(investor, full=full, role=role)

    def list_investors(
        self,
        principal: Principal | None,
        query: InvestorQuery,
        caller_is_member: bool,
        page_size: int,
        page_token: str,
        viewer_page: str = "",
    ) -> InvestorList:
        """The directory (public view), in the query's order; other states than active for staff only; its
        criteria filters for pages whose plan includes them (`viewer_page`, pages.directory_filters)."""
        staff = principal is not None and principal.is_staff_or_service
        check_orphan_filter(principal, query.orphaned)
        self._filters.require(principal, viewer_page, query.criteria())
        if query.states != (InvestorState.ACTIVE,) and not staff:
            raise errors.PermissionDenied("only platform staff list deleted pages", reason="STATE_FILTER_STAFF_ONLY")
        if caller_is_member:
            if principal is None:
                raise errors.Unauthenticated("caller_is_member needs a bearer token", reason="TOKEN_MISSING")
            query = replace(query, member_subject=principal.subject)
        window = list_window(page_size, page_token, self._limits, filters=query.fingerprint())
        check_position(window.after, query.order)
        with self._uow(read_only=True) as uow:  # one statement: the window, the caller's roles, the total
            found = uow.investors.list_after(query, window, principal.subject if principal else None)
        items, token = finish_window(window, found.seen, lambda s: position(s.page, query.order))
        return InvestorList([InvestorView(s.page, role=s.role) for s in items], token, found.total)

    def update(self, principal: Principal, investor_id: str, changes: Profile, paths: frozenset[str]) -> InvestorView:
        """The page with `paths` changed, as stored (unchanged, nothing is written or published)."""
        with self._uow() as uow:
            authorize(uow, investor_id, principal, PagePermission.EDIT)
            ensure_page(uow, investor_id)
            current = uow.investors.get(investor_id, lock=True)
            assert current is not None  # ensure_page saw it live in this transaction
            updated, changed = current.with_changes(changes, paths, self._clock())
            member = uow.members.get(investor_id, principal.subject)
            if changed:
                uow.investors.save(updated)
                uow.events.investor_updated(updated, changed)
                uow.commit()
        return InvestorView(updated, full=True, role=member.role if member else None)

    def delete(self, principal: Principal, investor_id: str) -> None:
        """Soft delete: hidden from the directory and from members, kept for staff; an event says so."""
        with self._uow() as uow:
            authorize(uow, investor_id, principal, PagePermission.DELETE)
            ensure_page(uow, investor_id)
            current = uow.investors.get(investor_id, lock=True)
            if current is None or current.is_deleted:  # deleted concurrently
                raise _not_found(investor_id)
            deleted = current.deleted(self._clock())
            uow.investors.save(deleted)
            uow.events.investor_deleted(deleted, self._members.reference(principal))
            uow.commit()

    def batch_get(self, investor_ids: Sequence[str]) -> list[Investor]:
        """Live pages with every field, in request order; unknown and deleted ids left out."""
        if len(investor_ids) > MAX_BATCH:
            raise errors.InvalidArgument.for_field("names", f"must have at most {MAX_BATCH} names")
        with self._uow(read_only=True) as uow:
            found = uow.investors.get_many(investor_ids)
        live = (found.get(i) for i in dict.fromkeys(investor_ids))
        return [i for i in live if i is not None and not i.is_deleted]

    def titles(self, investor_ids: Sequence[str]) -> dict[str, str]:
        with self._uow(read_only=True) as uow:
            return uow.investors.titles(investor_ids)


def _not_found(investor_id: str) -> errors.NotFound:
    return errors.NotFound(f"investors/{investor_id} does not exist", reason="INVESTOR_NOT_FOUND")


def _concurrent_create(_: DuplicateRecord) -> errors.Conflict:
    return errors.Conflict("the page is being created concurrently; retry", reason="CONCURRENT_CREATE")

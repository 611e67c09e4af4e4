"""Use cases on company pages: create, read (public or full view), update, soft delete, directory."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from company_service.domain.content import LEAF_FIELDS, CompanyContent
from company_service.domain.directory import DirectoryQuery, check_states, normalise_order, position
from company_service.domain.model import Company, CompanyState, CompanyView
from company_service.domain.rules import edit, validate
from company_service.service_layer.ports import Clock, CompanyUnitOfWork, UnlockChecker, UowFactory
from devinsider_common import errors
from devinsider_common.auth.principal import ROLE_INVESTOR, ROLE_PROGRAM, Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.directory_filters import DirectoryFilterGate
from devinsider_common.pages.membership import PageMembers, authorize
from devinsider_common.pages.model import InvitationState, Member, PageForViewer
from devinsider_common.pages.orphans import check_orphan_filter
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pagination import ListLimits, ListWindow, finish_window, list_window
from devinsider_common.unit_of_work import create_once

MAX_BATCH = 200
# Realm roles whose organisations buy unlocks of company contact details.
UNLOCKING_ROLES = (ROLE_INVESTOR, ROLE_PROGRAM)
Seen = PageForViewer[Company]  # a page, the caller's role on it, the pages that unlocked it


def not_found(company_id: str) -> errors.NotFound:
    return errors.NotFound(f"companies/{company_id} does not exist", reason="COMPANY_NOT_FOUND")


def live(company: Company | None, company_id: str) -> Company:
    if company is None or company.is_deleted:
        raise not_found(company_id)
    return company


def full_access(principal: Principal | None, seen: Seen, unlocks: UnlockChecker) -> bool:
    """Members, staff and services see everything; investors and programs once their organisation
    unlocked the page (the unlocking pages' services are asked only then); everyone else sees the public view."""
    if principal is None:
        return False
    if principal.is_staff_or_service or seen.role is not None:
        return True
    return principal.has_role(*UNLOCKING_ROLES) and unlocks.has_unlocked(
        seen.page.name, principal.subject, seen.unlockers
    )


def acting_role(actor: Member, principal: Principal) -> PageRole | None:
    """The caller's role on the page `authorize` let act: none for a platform admin who is not a member."""
    return None if actor.created_at is None and principal.is_admin else actor.role


def one_company() -> errors.FailedPrecondition:
    return errors.FailedPrecondition(
        "you already run a company page; ask to be invited to another one", reason="ONE_COMPANY_PER_USER"
    )


class CompanyUseCases:
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

    def create(self, principal: Principal, content: CompanyContent, pre_listed: bool, request_id: str) -> CompanyView:
        """The caller becomes owner; ISV users found one live page at most; staff and services pre-list.
        A request id makes it idempotent: a retry (even a concurrent one) gets the page the first made."""
        if pre_listed and not principal.is_staff_or_service:
            raise errors.PermissionDenied("only platform staff pre-list companies", reason="PRE_LISTING_STAFF_ONLY")
        if not pre_listed and principal.is_service:
            raise errors.InvalidArgument.for_field("pre_listed", "services create pre-listed pages only")
        now = self._clock()
        validate(content, frozenset(LEAF_FIELDS), now.date())
        key = request_id or None
        seen = create_once(
            lambda: self._create(principal, content, pre_listed, key, now),
            lambda: self._twin(principal, key),
            lambda _: one_company(),  # no twin: the founder's other live page won
        )
        return self._view(principal, seen)

    def _create(
        self, principal: Principal, content: CompanyContent, pre_listed: bool, key: str | None, now: datetime
    ) -> Seen:
        company_id = new_id()
        # Describing the owner may ask the user service: done before the transaction, never inside it.
        owner = None if pre_listed else self._members.new_member(principal, company_id, PageRole.OWNER)
        with self._uow() as uow:
            if key and (existing := uow.companies.by_idempotency_key(principal.subject, key)) is not None:
                return self._seen(uow, principal, existing)
            founder = "" if pre_listed or principal.is_admin else principal.subject
            if founder and (founded := uow.companies.live_founded_by(founder)) is not None:
                if key and (founded.creator, founded.idempotency_key) == (principal.subject, key):
                    return self._seen(uow, principal, founded)  # a concurrent retry committed it meanwhile
                raise one_company()
            state = CompanyState.PRE_LISTED if pre_listed else CompanyState.ACTIVE
            company = Company(
                company_id, content, state, founder=founder, creator=principal.subject, idempotency_key=key,
                created_at=now, updated_at=now,
            )  # fmt: skip
            uow.companies.add(company)
            uow.events.company_created(company, creator="" if pre_listed else principal.subject)
            if owner is not None:
                uow.members.add(owner)
                uow.events.member_added(owner, None)
            uow.commit()
        return PageForViewer(company, None if pre_listed else PageRole.OWNER)

    def _twin(self, principal: Principal, key: str | None) -> Seen | None:
        """The page a concurrent request with the same request id created."""
        if not key:
            return None
        with self._uow(read_only=True) as uow:
            existing = uow.companies.by_idempotency_key(principal.subject, key)
            return self._seen(uow, principal, existing) if existing else None

    @staticmethod
    def _seen(uow: CompanyUnitOfWork, principal: Principal, company: Company) -> Seen:
        return uow.companies.get_for_viewer(company.id, principal.subject) or PageForViewer(company)

    def _view(self, principal: Principal | None, seen: Seen) -> CompanyView:
        return CompanyView(seen.page, full_access(principal, seen, self._unlocks), seen.role)

    def get(self, principal: Principal | None, company_id: str) -> CompanyView:
        """Deleted pages exist for staff and services only."""
        with self._uow(read_only=True) as uow:  # one statement: the page, the caller's role, its unlockers
            seen = uow.companies.get_for_viewer(company_id, principal.subject if principal else None)
        if seen is None or (seen.page.is_deleted and not (principal and principal.is_staff_or_service)):
            raise not_found(company_id)
        return self._view(principal, seen)

    def update(
        self, principal: Principal, company_id: str, changes: CompanyContent, leaves: frozenset[str]
    ) -> CompanyView:
        with self._uow() as uow:
            actor = authorize(uow, company_id, principal, PagePermission.EDIT)
            company = live(uow.companies.get(company_id, lock=True), company_id)
            updated, changed = edit(company, changes, leaves, self._clock())
            if changed:
                updated = uow.companies.save(updated)
                uow.events.company_updated(updated, changed)
                uow.commit()
        return CompanyView(updated, True, acting_role(actor, principal))

    def delete(self, principal: Principal, company_id: str) -> None:
        """Soft delete: the page leaves the directory, its members are removed, pending invitations revoked."""
        with self._uow() as uow:
            authorize(uow, company_id, principal, PagePermission.DELETE)
            company = live(uow.companies.get(company_id, lock=True), company_id)
            now = self._clock()
            deleted = uow.companies.save(company.deleted(now))
            for member in uow.members.list_after(company_id, ListWindow(size=10_000)):
                uow.members.remove(company_id, member.subject)
                uow.events.member_removed_with_page(member)
            for invitation in uow.invitations.list_after(
                ListWindow(size=10_000), page_id=company_id, state=InvitationState.PENDING
            ):
                revoked = invitation.revoke(now)
                uow.invitations.save_state(revoked)
                uow.events.invitation_changed(revoked)
            uow.events.company_deleted(deleted, self._members.reference(principal))
            uow.commit()

    def list_companies(
        self,
        principal: Principal | None,
        query: DirectoryQuery,
        caller_is_member: bool,
        page_size: int,
        token: str,
        viewer_page: str = "",
    ) -> tuple[list[CompanyView], str, int]:
        """The directory (public view; staff and services see everything), with filters and an order; its
        criteria filters for pages whose plan includes them (`viewer_page`, pages.directory_filters)."""
        staff = principal is not None and principal.is_staff_or_service
        check_orphan_filter(principal, query.orphaned)
        self._filters.require(principal, viewer_page, query.criteria())
        if caller_is_member and principal is None:
            raise errors.Unauthenticated("caller_is_member needs a bearer token", reason="TOKEN_MISSING")
        query = replace(
            query,
            states=check_states(query.states, staff),
            order_by=normalise_order(query.order_by),
            member_subject=principal.subject if caller_is_member and principal else None,
        )
        window = list_window(page_size, token, self._limits, filters=query.fingerprint())
        with self._uow(read_only=True) as uow:  # one statement: the window, the caller's roles, the total
            found = uow.companies.list_after(query, window, principal.subject if principal else None)
        items, next_token = finish_window(window, found.seen, lambda s: position(s.page, query.order_by))
        return [CompanyView(s.page, staff, s.role) for s in items], next_token, found.total

    def batch_get(self, ids: list[str]) -> list[Company]:
        """Full views in request order; unknown and deleted pages are left out (services only)."""
        if len(ids) > MAX_BATCH:
            raise errors.InvalidArgument.for_field("names", f"must hold at most {MAX_BATCH} names")
        with self._uow(read_only=True) as uow:
            found = uow.companies.get_many(ids)
        return [found[i] for i in dict.fromkeys(ids) if i in found and not found[i].is_deleted]

    def titles(self, ids: list[str]) -> dict[str, str]:
        with self._uow(read_only=True) as uow:
            return uow.companies.titles(ids)

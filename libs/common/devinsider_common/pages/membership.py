"""Use cases on page members, shared by the company, investor and program services.

Permission is checked before existence: a caller without the permission gets PERMISSION_DENIED
whether or not the page exists, so ids of other organisations reveal nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.model import (
    Member,
    check_can_assign,
    check_can_manage,
    check_keeps_an_owner,
    require,
)
from devinsider_common.pages.ports import MembershipUnitOfWork, UserDirectory
from devinsider_common.pages.roles import PagePermission, PageRole, allows
from devinsider_common.pages.user_directory import user_reference
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.unit_of_work import UnitOfWorkFactory

UowFactory = UnitOfWorkFactory[MembershipUnitOfWork]
Clock = Callable[[], datetime]


def authorize(uow: MembershipUnitOfWork, page_id: str, principal: Principal, permission: PagePermission) -> Member:
    """The caller's membership when it grants `permission`; platform admins act as owners."""
    member = uow.members.get(page_id, principal.subject)
    if principal.is_admin:
        return member or Member(page_id=page_id, subject=principal.subject, role=PageRole.OWNER)
    require(member, permission)
    assert member is not None
    return member


def ensure_page(uow: MembershipUnitOfWork, page_id: str) -> str:
    title = uow.page_title(page_id)
    if title is None:
        raise errors.NotFound("the page does not exist", reason="PAGE_NOT_FOUND")
    return title


class PageMembers:
    def __init__(self, uow: UowFactory, clock: Clock, limits: ListLimits, directory: UserDirectory) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits
        self._directory = directory

    def new_member(self, principal: Principal, page_id: str, role: PageRole) -> Member:
        """A member record for the caller (the creator of a page, or an invitee who accepts)."""
        who = self._directory.describe(principal)
        now = self._clock()
        return Member(page_id, principal.subject, role, who.user, who.display_name, who.email, now, now)

    def reference(self, principal: Principal) -> str:
        """How records name the caller (`inviter`, `decider`): `users/{id}` (see user_reference)."""
        return user_reference(self._directory, principal)

    def check_access(self, page_id: str, subject: str, permission: PagePermission) -> tuple[bool, PageRole | None]:
        """The answer of the service-only CheckPageAccess RPC."""
        with self._uow(read_only=True) as uow:
            role = uow.page_role(page_id, subject)
        return allows(role, permission), role

    def list(
        self, principal: Principal, page_id: str, page_size: int, page_token: str, role: PageRole | None
    ) -> tuple[list[Member], str]:
        window = list_window(page_size, page_token, self._limits, filters={"page": page_id, "role": int(role or 0)})
        with self._uow(read_only=True) as uow:
            authorize(uow, page_id, principal, PagePermission.VIEW_PRIVATE)
            ensure_page(uow, page_id)
            found = uow.members.list_after(page_id, window, role)
        return finish_window(window, found, lambda m: (m.subject,))

    def change_role(self, principal: Principal, page_id: str, member_id: str, role: PageRole) -> Member:
        with self._uow() as uow:
            actor = authorize(uow, page_id, principal, PagePermission.MANAGE_MEMBERS)
            ensure_page(uow, page_id)
            target = self._target(uow, page_id, member_id)
            check_can_manage(actor.role, target)
            check_can_assign(actor.role, role)
            if target.role is role:
                return target
            check_keeps_an_owner(target, role, uow.members.owner_count(page_id, lock=True))
            updated = replace(target, role=role, updated_at=self._clock())
            uow.members.save(updated)
            uow.membership_events.member_updated(updated, target.role)
            uow.commit()
        return updated

    def remove(self, principal: Principal, page_id: str, member_id: str) -> None:
        with self._uow() as uow:
            actor = authorize(uow, page_id, principal, PagePermission.MANAGE_MEMBERS)
            ensure_page(uow, page_id)
            target = self._target(uow, page_id, member_id)
            check_can_manage(actor.role, target)
            self._delete(uow, target, left=False)
            uow.commit()

    def leave(self, principal: Principal, page_id: str) -> None:
        with self._uow() as uow:
            member = uow.members.get(page_id, principal.subject, lock=True)
            if member is None:
                raise errors.NotFound("you are not a member of this page", reason="NOT_A_MEMBER")
            self._delete(uow, member, left=True)
            uow.commit()

    @staticmethod
    def _target(uow: MembershipUnitOfWork, page_id: str, member_id: str) -> Member:
        target = uow.members.find(page_id, member_id, lock=True)
        if target is None:
            raise errors.NotFound("no such member on this page", reason="MEMBER_NOT_FOUND")
        return target

    @staticmethod
    def _delete(uow: MembershipUnitOfWork, member: Member, left: bool) -> None:
        check_keeps_an_owner(member, None, uow.members.owner_count(member.page_id, lock=True))
        uow.members.remove(member.page_id, member.subject)
        uow.membership_events.member_removed(member, left)

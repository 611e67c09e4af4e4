"""Pieces every use case shares: the unit-of-work factory, the clock, the caller's page authorisation, and
who the caller is in the records (`users/{id}`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contact_service.service_layer.ports import BlockList, ContactUnitOfWork, PageAccess
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageName
from devinsider_common.pages.ports import ClaimsDirectory, UserDirectory
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pages.user_directory import user_reference
from devinsider_common.unit_of_work import UnitOfWorkFactory

UowFactory = UnitOfWorkFactory[ContactUnitOfWork]
Clock = Callable[[], datetime]


class Authorizer:
    """Page permission before existence: every use case on a page's data asks here first."""

    def __init__(self, access: PageAccess, users: UserDirectory | None = None) -> None:
        self._access = access
        self._users = users or ClaimsDirectory()

    def creator(self, principal: Principal) -> str:
        """How a record names the caller: `users/{id}`, or its subject when unknown."""
        return user_reference(self._users, principal)

    def display_name(self, principal: Principal) -> str:
        return ClaimsDirectory().describe(principal).display_name

    def require(self, principal: Principal, page: PageName, permission: PagePermission, *, staff: bool = True) -> None:
        """Members holding `permission`; platform staff and services too when `staff` (reads)."""
        if staff and principal.is_staff_or_service:
            return
        self._access.require(page.name, principal.subject, permission)

    def allowed(self, principal: Principal, page: PageName, permission: PagePermission) -> bool:
        return self._access.allowed(page.name, principal.subject, permission)

    def member_of(self, principal: Principal, pages: tuple[PageName, ...]) -> PageName | None:
        """The first of `pages` the caller is a member of (VIEW_PRIVATE), None when none."""
        return next((page for page in pages if self.allowed(principal, page, PagePermission.VIEW_PRIVATE)), None)

    def page_denied(self, permission: PagePermission, page: str) -> errors.PermissionDenied:
        return errors.PermissionDenied(
            f"this needs the {permission.name.lower()} permission on {page}", reason="PAGE_PERMISSION_DENIED"
        )


def require_not_blocked(blocks: BlockList, a: PageName, b: PageName) -> None:
    """FAILED_PRECONDITION `BLOCKED` when either page blocked the other (matching's blocks)."""
    if blocks.is_blocked(a, b):
        raise errors.FailedPrecondition(
            "one of the two pages blocked the other: they cannot contact each other", reason="BLOCKED"
        )

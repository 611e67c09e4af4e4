"""Page permissions as the use cases of a service that does not own pages ask them (billing, contact): the
ports to the page services' CheckPageAccess and to matching's blocks, and the one authorizer over them.

`pages.services.PagesAccess` and `blocks.GrpcBlockList` are the adapters; `testing.neighbours` the fakes.
"""

from __future__ import annotations

from typing import Protocol

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageName
from devinsider_common.pages.ports import ClaimsDirectory, UserDirectory
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pages.user_directory import user_reference


class PageAccess(Protocol):
    """Who may act on a page, asked of the service that owns its kind."""

    def require(self, page: str, subject: str, permission: PagePermission) -> object:
        """PermissionDenied (PAGE_PERMISSION_DENIED) unless `subject` holds `permission` on `page`."""
        ...

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool: ...


class BlockList(Protocol):
    def is_blocked(self, a: PageName, b: PageName) -> bool:
        """Whether either page blocked the other."""
        ...


class PageAuthorizer:
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

    def is_member(self, principal: Principal, page: PageName) -> bool:
        return self.allowed(principal, page, PagePermission.VIEW_PRIVATE)

    def member_of(self, principal: Principal, pages: tuple[PageName, ...]) -> PageName | None:
        """The first of `pages` the caller is a member of (VIEW_PRIVATE), None when none."""
        return next((page for page in pages if self.is_member(principal, page)), None)

    def page_denied(self, permission: PagePermission, page: str) -> errors.PermissionDenied:
        return errors.PermissionDenied(
            f"this needs the {permission.name.lower()} permission on {page}", reason="PAGE_PERMISSION_DENIED"
        )


def require_not_blocked(blocks: BlockList, a: PageName, b: PageName, consequence: str = "") -> None:
    """FAILED_PRECONDITION `BLOCKED` when either page blocked the other (matching's blocks)."""
    if blocks.is_blocked(a, b):
        message = "one of the two pages blocked the other"
        raise errors.FailedPrecondition(f"{message}: {consequence}" if consequence else message, reason="BLOCKED")

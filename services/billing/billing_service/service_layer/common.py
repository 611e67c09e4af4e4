"""Pieces every use case shares: the unit-of-work factory, the clock, the caller's page authorisation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from billing_service.service_layer.ports import BillingUnitOfWork, PageAccess
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageName
from devinsider_common.pages.ports import ClaimsDirectory, UserDirectory
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pages.user_directory import user_reference
from devinsider_common.unit_of_work import UnitOfWorkFactory

UowFactory = UnitOfWorkFactory[BillingUnitOfWork]
Clock = Callable[[], datetime]


class Authorizer:
    """Page permission before existence: every use case on a page's data asks here first."""

    def __init__(self, access: PageAccess, users: UserDirectory | None = None) -> None:
        self._access = access
        self._users = users or ClaimsDirectory()

    def creator(self, principal: Principal) -> str:
        """The `creator` of what the caller makes: `users/{id}`, or its subject when unknown."""
        return user_reference(self._users, principal)

    def require(self, principal: Principal, page: PageName, permission: PagePermission, *, staff: bool = True) -> None:
        """Members holding `permission`; platform staff and services too when `staff`."""
        if staff and principal.is_staff_or_service:
            return
        self._access.require(page, principal.subject, permission)

    def is_member(self, principal: Principal, page: PageName) -> bool:
        return self._access.allowed(page, principal.subject, PagePermission.VIEW_PRIVATE)

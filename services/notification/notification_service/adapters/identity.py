"""`ports.CallerIdentity`: who the caller is as a user. With the user service (USER_TARGET) the caller's
user is the one its CheckUserAccess answer names (already fetched and cached by the access guard for this
call), created there on a first visit as every service does; without one, as the page services record
members then, the caller is its subject. Service accounts are no user."""

from __future__ import annotations

from devinsider_common.auth.principal import Principal
from devinsider_common.auth.user_access import UserServiceAccessGuard
from devinsider_common.auth.verifier import AccessGuard


class GuardIdentity:
    def __init__(self, guard: AccessGuard) -> None:
        self._guard = guard if isinstance(guard, UserServiceAccessGuard) else None

    def user_of(self, principal: Principal) -> str:
        if principal.is_service:
            return ""
        if self._guard is None:
            return principal.subject
        return self._guard.ensure_user(principal).removeprefix("users/")

"""The user directory of a page service: who a new member is.

Names and e-mail come from the token's claims (what Keycloak knows now); the member's `user`
(`users/{id}`) comes from the user service's CheckUserAccess answer, which the platform access
guard has already fetched and cached for the same request, so describing a caller costs no call.
A caller the user service has never seen is created there first (once), so that every record
names a `users/{id}`; only without a user service (USER_TARGET unset) is a caller its subject.
"""

from __future__ import annotations

from dataclasses import replace

from devinsider_common.auth.principal import Principal
from devinsider_common.auth.user_access import UserServiceAccessGuard
from devinsider_common.auth.verifier import AccessGuard
from devinsider_common.pages.ports import ClaimsDirectory, UserDirectory, UserSummary


class UserServiceDirectory:
    def __init__(self, guard: UserServiceAccessGuard) -> None:
        self._guard = guard
        self._claims = ClaimsDirectory()

    def describe(self, principal: Principal) -> UserSummary:
        return replace(self._claims.describe(principal), user=self._guard.ensure_user(principal))


def user_directory(guard: AccessGuard) -> UserDirectory:
    """The directory that goes with a service's access guard: the user service's when the guard
    asks it (USER_TARGET set), the token's claims alone otherwise."""
    return UserServiceDirectory(guard) if isinstance(guard, UserServiceAccessGuard) else ClaimsDirectory()


def user_reference(users: UserDirectory, principal: Principal) -> str:
    """How a record names who did something (`creator`, `inviter`, `decider`...): `users/{id}`, or
    the Keycloak subject for service accounts and when no user service is configured."""
    if principal.is_service:
        return principal.subject
    return users.describe(principal).user or principal.subject

"""The user directory of a page service: who a new member is.

Names and e-mail come from the token's claims (what Keycloak knows now); the member's `user`
(`users/{id}`) comes from the user service's CheckUserAccess answer, which the platform access
guard has already fetched and cached for the same request, so describing a caller costs no call.
A caller the user service has never seen is created there first (once), so that every record
names a `users/{id}`; only without a user service (USER_TARGET unset) is a caller its subject.

Other users than the caller (the owner staff assign to a page) are looked up by name: the user service's
GetUser and CheckUserAccess, called with the service's own identity (`UserServiceLookup`).
"""

from __future__ import annotations

from dataclasses import replace

import grpc
import structlog

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.auth.user_access import CHECK_USER_ACCESS, UserServiceAccessGuard
from devinsider_common.auth.verifier import AccessGuard
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.ports import (
    ClaimsDirectory,
    DirectoryUser,
    UserDirectory,
    UserLookup,
    UserSummary,
    display_name,
)
from devinsider_common.settings import ServiceSettings

log = structlog.get_logger("devinsider.pages.users")

GET_USER = "/devinsider.user.v1.UserService/GetUser"


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


class UserServiceLookup:
    """`UserLookup` on the user service: GetUser (every field, for a service) for who the user is, then
    CheckUserAccess for whether the platform lets them in (blacklisted, disabled)."""

    def __init__(self, stub: user_pb2_grpc.UserServiceStub) -> None:
        self._stub = stub

    def find(self, user: str) -> DirectoryUser | None:
        try:
            found = self._stub.GetUser(user_pb2.GetUserRequest(name=user))
            request = user_pb2.CheckUserAccessRequest(subject=found.subject, email=found.email)
            access = self._stub.CheckUserAccess(request)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:  # unknown, or deleted (GetUser hides those)
                return None
            log.warning("users.lookup_failed", code=error.code().name)
            raise errors.Unavailable("the user service is unavailable; retry shortly") from error
        if access.reason == "DELETED":  # deleted between the two calls
            return None
        refusal = "" if access.allowed else access.reason or "DENIED"
        name = display_name(found.given_name, found.family_name, found.email)
        return DirectoryUser(found.name, found.subject, name, found.email.lower(), refusal)


class NoUserLookup:
    """Without a user service (USER_TARGET unset) no user can be named: the call says so."""

    def find(self, user: str) -> DirectoryUser | None:
        raise errors.Unavailable(
            "naming a user needs the user service, and USER_TARGET is not set", reason="USER_SERVICE_NOT_CONFIGURED"
        )


def user_lookup(settings: ServiceSettings, channels: ChannelFactory) -> UserLookup:
    """The lookup of a page service: the user service's, over `channels` that carry the service's own
    token (the runtime's `service_channels`), when USER_TARGET is set."""
    if not settings.user_target:
        return NoUserLookup()
    reads = [GET_USER, CHECK_USER_ACCESS]
    stub = channels.stub(settings.user_target, user_pb2_grpc.UserServiceStub, idempotent_methods=reads)
    return UserServiceLookup(stub)

"""The platform access rule (blacklist, deleted accounts) for services other than the user service:
an AccessGuard that asks the user service's CheckUserAccess and caches the answer briefly."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import structlog

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.auth.verifier import AccessGuard, AllowAll
from devinsider_common.cache import Cache, near
from devinsider_common.context import token_var
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.settings import ServiceSettings

log = structlog.get_logger("devinsider.access")

CHECK_USER_ACCESS = "/devinsider.user.v1.UserService/CheckUserAccess"
# Cache entity of the answers (`allowed:reason:user`); not the user service's own `access` entries.
CACHE_ENTITY = "user_access"


class UserServiceAccessGuard:
    """Refuses principals the user service refuses; answers cached `ttl` seconds at most.

    When the user service cannot be reached the call fails UNAVAILABLE (fail closed): a blacklisted
    account must not slip through an outage. Service accounts are not users and are not asked about.
    """

    def __init__(
        self, stub: user_pb2_grpc.UserServiceStub, service_token: Callable[[], str], cache: Cache, ttl: float = 5.0
    ) -> None:
        self._stub = stub
        self._service_token = service_token
        self._cache = cache
        self._ttl = ttl

    def check(self, principal: Principal) -> None:
        if principal.is_service:
            return
        allowed, reason, _ = self._answer(principal)
        if not allowed:
            raise errors.PermissionDenied("this account may not use DevInsider", reason=reason or "DENIED")

    def user_of(self, principal: Principal) -> str:
        """The principal's user (`users/{id}`), empty when the user service has none (or for a
        service account); the answer `check` just cached, so no second call in the same request."""
        return "" if principal.is_service else self._answer(principal)[2]

    def ensure_user(self, principal: Principal) -> str:
        """`user_of`, but a caller the user service has not seen yet gets its user now: the user
        service's GetMe with the caller's own token creates it from the claims, as on a first visit.
        So records name `users/{id}`, never the subject. Empty for service accounts, or outside a call."""
        user = self.user_of(principal)
        token = token_var.get()
        if user or principal.is_service or not token:
            return user
        try:
            me = self._stub.GetMe(user_pb2.GetMeRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=3)
        except grpc.RpcError as error:
            log.warning("access.provision_failed", code=error.code().name)
            raise errors.Unavailable("the user service is unavailable; retry shortly") from error
        allowed, reason, _ = self._answer(principal)
        self._cache.set(CACHE_ENTITY, _key(principal), f"{int(allowed)}:{reason}:{me.name}", self._ttl)
        return str(me.name)

    def _answer(self, principal: Principal) -> tuple[bool, str, str]:
        """(allowed, reason, user) from the cache, or from the user service (then cached)."""
        key = _key(principal)
        cached = self._cache.get(CACHE_ENTITY, key)
        if cached is None:
            request = user_pb2.CheckUserAccessRequest(subject=principal.subject, email=principal.email)
            metadata = (("authorization", f"Bearer {self._service_token()}"),)
            try:
                answer = self._stub.CheckUserAccess(request, metadata=metadata, timeout=3)
            except grpc.RpcError as error:
                log.warning("access.check_failed", code=error.code().name)
                raise errors.Unavailable("the access check is unavailable; retry shortly") from error
            ttl = min(self._ttl, answer.cache_ttl_seconds or self._ttl)
            cached = f"{int(answer.allowed)}:{answer.reason}:{answer.user}".encode()
            self._cache.set(CACHE_ENTITY, key, cached, ttl)
        # `allowed:reason:user`; entries written before `user` existed have two parts.
        allowed, reason, user = ([*cached.decode().split(":", 2), ""])[:3]
        return allowed == "1", reason, user


def _key(principal: Principal) -> str:
    return f"{principal.subject}|{principal.email.lower()}"


def platform_access_guard(
    settings: ServiceSettings, channels: ChannelFactory, service_token: Callable[[], str], cache: Cache
) -> AccessGuard:
    """The guard a service (other than the user service) runs: the user service's rule when
    USER_TARGET is set, nobody refused otherwise (local runs of one service alone)."""
    if not settings.user_target:
        return AllowAll()
    stub = channels.stub(settings.user_target, user_pb2_grpc.UserServiceStub, idempotent_methods=[CHECK_USER_ACCESS])
    # The answer is read on every call: a copy in this process saves the Redis round trip, within the TTL.
    return UserServiceAccessGuard(stub, service_token, near(cache), settings.access_cache_ttl_seconds)

"""Interfaces the server interceptor depends on; implementations live beside them in this package."""

from __future__ import annotations

from typing import Protocol

from devinsider_common.auth.principal import Principal


class TokenVerifier(Protocol):
    """Turns a bearer token into a Principal, or raises errors.Unauthenticated."""

    def verify(self, token: str) -> Principal: ...


class AccessGuard(Protocol):
    """Refuses principals the platform denies (deleted, blacklisted); raises errors.PermissionDenied."""

    def check(self, principal: Principal) -> None: ...


class AllowAll:
    """An AccessGuard that refuses no one (services that do not enforce the blacklist themselves)."""

    def check(self, principal: Principal) -> None:
        return None

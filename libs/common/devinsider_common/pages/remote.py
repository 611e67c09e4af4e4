"""Asking another service whether a user may act on one of its pages (its CheckPageAccess RPC),
cached briefly so a page of results does not cost one call per item.

The answers are never deleted, only outlive their TTL (the owner's `cache_ttl_seconds`, at most ours): that TTL
is the staleness bound, so a process-local copy in front of Redis (`near`) is as fresh and saves a Redis round
trip on every read that checks a viewer (a stranger's GetCompany asks about each page that unlocked it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from devinsider_common import errors
from devinsider_common.cache import Cache, near
from devinsider_common.pages.roles import PagePermission, PageRole

# The generated stub method, e.g. `CompanyServiceStub(channel).CheckPageAccess`.
CheckMethod = Callable[..., Any]


class RemotePageAccess:
    def __init__(self, check: CheckMethod, request_class: type[Any], cache: Cache, ttl_seconds: float = 10.0) -> None:
        self._check = check
        self._request_class = request_class
        self._cache = near(cache)
        self._ttl = ttl_seconds

    def role(self, page: str, subject: str, permission: PagePermission) -> tuple[bool, PageRole | None]:
        key = f"{page}|{subject}|{int(permission)}"
        cached = self._cache.get("page_access", key)
        if cached is not None:
            allowed, _, role = cached.decode().partition(":")
            return allowed == "1", PageRole(int(role)) if role else None
        try:
            answer = self._check(self._request_class(page=page, subject=subject, permission=int(permission)))
        except grpc.RpcError as error:
            raise errors.Unavailable(f"cannot check access to {page}: {error.code().name}") from error
        role_value = int(answer.role) or None
        ttl = min(self._ttl, answer.cache_ttl_seconds or self._ttl)
        self._cache.set("page_access", key, f"{int(answer.allowed)}:{role_value or ''}", ttl)
        return bool(answer.allowed), PageRole(role_value) if role_value else None

    def require(self, page: str, subject: str, permission: PagePermission) -> PageRole:
        allowed, role = self.role(page, subject, permission)
        if not allowed or role is None:
            raise errors.PermissionDenied(
                f"this needs the {permission.name.lower()} permission on {page}", reason="PAGE_PERMISSION_DENIED"
            )
        return role

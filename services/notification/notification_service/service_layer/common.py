"""What the use cases share: the unit-of-work factory, the clock, the configuration, resolving the
caller's own `users/{user}`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import is_id
from devinsider_common.unit_of_work import UnitOfWorkFactory
from notification_service.service_layer.ports import CallerIdentity, NotificationUnitOfWork

UowFactory = UnitOfWorkFactory[NotificationUnitOfWork]
Clock = Callable[[], datetime]
ME = "me"


@dataclass(frozen=True)
class NotificationConfig:
    app_url: str = "http://localhost:3000"
    digest_hour_utc: int = 8
    credits_low_threshold: int = 1
    retention_days: float = 180.0


def own_user(identity: CallerIdentity, principal: Principal, user: str, path: str) -> str:
    """The caller's user id when `user` (the id in `users/{user}`) names the caller (or is `me`);
    PERMISSION_DENIED for anyone else's, before anything is read (permission before existence)."""
    if user != ME and not is_id(user):
        raise errors.InvalidArgument.for_field(path, "must look like `users/{user}` or `users/me`")
    own = identity.user_of(principal)
    if not own:
        raise errors.PermissionDenied("notifications belong to users; this caller is none", reason="NOT_YOUR_USER")
    if user not in (ME, own):
        raise errors.PermissionDenied("a user reaches only their own notifications", reason="NOT_YOUR_USER")
    return own

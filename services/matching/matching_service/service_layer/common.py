"""What the use cases share: the unit-of-work factory, the clock, the configuration, permission checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.roles import PagePermission
from matching_service.domain.scoring import Weights
from matching_service.service_layer.ports import MatchingUnitOfWork, PageDirectory

UowFactory = Callable[[], MatchingUnitOfWork]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class MatchingConfig:
    weights: dict[PageKind, Weights]
    # A pair first scoring at least this publishes MatchFound (for mail digests).
    significant_score: float = 75.0
    # At most this many MatchFound events per profile change.
    max_announcements: int = 50
    # How long a CheckBlocked answer may be cached by its caller.
    check_blocked_ttl_seconds: int = 30


def authorize(directory: PageDirectory, principal: Principal, page: str, permission: PagePermission) -> None:
    """Page permission from the owning service; platform staff and services may read, never write."""
    if permission is PagePermission.VIEW_PRIVATE and principal.is_staff_or_service:
        return
    directory.require(page, principal.subject, permission)


def not_found(what: str) -> errors.NotFound:
    return errors.NotFound(f"{what} does not exist", reason="NOT_FOUND")

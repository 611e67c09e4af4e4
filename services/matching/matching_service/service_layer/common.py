"""What the use cases share: the unit-of-work factory, the clock, the configuration, permission checks,
storing what an owning service said about a page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.roles import PagePermission
from devinsider_common.unit_of_work import UnitOfWorkFactory
from matching_service.domain.facts import own_values
from matching_service.domain.pages import PageStatus
from matching_service.domain.scoring import Weights
from matching_service.service_layer.ports import MatchingUnitOfWork, PageDirectory

UowFactory = UnitOfWorkFactory[MatchingUnitOfWork]
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


def save_status(uow: MatchingUnitOfWork, status: PageStatus, as_of: datetime, at: datetime) -> bool:
    """Store what the owning service said about a page (`StatusStore.save`: True when it changed). Once
    the page's facts are stored, its profile keeps only matching's own values: a profile stored before
    migration 0004 loses the page's values the first time its facts arrive (they scored until then)."""
    changed = uow.statuses.save(status, as_of, at)
    if changed and status.facts is not None:
        profile = uow.profiles.get(status.page.name)
        if profile is not None and (own := own_values(profile)) != profile:
            uow.profiles.save(own, exists=True)
    return changed


def not_found(what: str) -> errors.NotFound:
    return errors.NotFound(f"{what} does not exist", reason="NOT_FOUND")

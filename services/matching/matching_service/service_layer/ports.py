"""What the use cases need from the outside world, as ports (adapters implement them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from devinsider_common.pages.roles import PagePermission, PageRole
from matching_service.domain.pages import PageStatus


class PageDirectory(Protocol):
    """The owning services of pages (company, investor, program)."""

    def require(self, page: str, subject: str, permission: PagePermission) -> PageRole:
        """The caller's role on `page` if it grants `permission`; PermissionDenied otherwise (also for an
        unknown page: permission comes before existence)."""

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool:
        """Whether the user holds `permission` on `page`."""

    def statuses(self, names: Iterable[str]) -> dict[str, PageStatus]:
        """Status and summary of each existing page, one batch call per owning service; unknown or
        deleted pages are left out."""

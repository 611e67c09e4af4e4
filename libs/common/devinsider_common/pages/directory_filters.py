"""The `directory_filters` entitlement, enforced by ListCompanies, ListInvestors and ListPrograms.

A directory's free text search, paging, order, states and `caller_is_member` are for everyone; its criteria
filters (industries, countries, sizes, stages... each service's DirectoryQuery says which fields are criteria)
are what a plan sells. A caller using one names the page it browses as (`viewer_page`, e.g. `investors/{id}`):
it must be a member of that page, and the page's plan must include `directory_filters`; else
PERMISSION_DENIED (`DIRECTORY_FILTERS_NOT_ENTITLED`, ErrorInfo naming the entitlement). Platform staff and
services are exempt (moderation, jobs). Membership of a page of the service's own kind is read locally, of
another kind asked of its service (CheckPageAccess, cached).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.cache import Cache
from devinsider_common.entitlements import UPGRADE_HINT, EntitlementsSource, Unrestricted, connect_entitlements
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.pages.ports import MembershipUnitOfWork
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pages.seats import SeatLimit
from devinsider_common.pages.services import PagesAccess
from devinsider_common.pages.settings import PageServiceSettings
from devinsider_common.unit_of_work import UnitOfWorkFactory


class RemoteMembership(Protocol):
    """`pages.services.PagesAccess`: membership of the pages of other services."""

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool: ...


class ViewerMembership:
    """Whether a subject is a member of a page: the service's own pages in its unit of work, others remotely."""

    def __init__(
        self,
        kind: PageKind,
        uow: UnitOfWorkFactory[MembershipUnitOfWork],
        others: RemoteMembership | None = None,
    ) -> None:
        self._kind = kind
        self._uow = uow
        self._others = others

    def is_member(self, page: PageName, subject: str) -> bool:
        if page.kind is self._kind:
            with self._uow(read_only=True) as uow:
                return uow.page_role(page.id, subject) is not None  # one statement: a member of a live page
        if self._others is None:
            raise errors.FailedPrecondition(f"{page.name}: this service cannot check membership of that page")
        return self._others.allowed(page.name, subject, PagePermission.VIEW_PRIVATE)


class Membership(Protocol):
    def is_member(self, page: PageName, subject: str) -> bool: ...


class DirectoryFilterGate:
    """Without a source of entitlements (a service run without billing, or a test of something else), open."""

    def __init__(self, membership: Membership | None = None, entitlements: EntitlementsSource | None = None) -> None:
        self._membership = membership
        self._entitlements = entitlements or Unrestricted()
        self._open = membership is None or isinstance(self._entitlements, Unrestricted)

    def require(self, principal: Principal | None, viewer_page: str, criteria: Sequence[str]) -> None:
        """Refuse the `criteria` filters (the request's field names; none: nothing to check) unless the
        caller is staff, or browses as `viewer_page`, a page it belongs to whose plan includes them."""
        if self._open or not criteria or (principal is not None and principal.is_staff_or_service):
            return
        assert self._membership is not None  # not open
        used = ", ".join(criteria)
        if principal is None:
            raise errors.Unauthenticated(f"directory filters ({used}) need a bearer token", reason="TOKEN_MISSING")
        if not viewer_page:
            raise self._refused(
                f"directory filters ({used}) need `viewer_page`: a page of yours whose plan includes them"
            )
        page = parse_page(viewer_page, "viewer_page")
        if not self._membership.is_member(page, principal.subject):
            raise errors.PermissionDenied(
                f"you are not a member of {page.name} (viewer_page)", reason="PAGE_PERMISSION_DENIED"
            )
        if not self._entitlements.of(page).directory_filters:
            raise self._refused(f"the plan of {page.name} does not include directory filters ({used})", page)

    @staticmethod
    def _refused(message: str, page: PageName | None = None) -> errors.PermissionDenied:
        metadata = {"entitlement": "directory_filters", "upgrade": UPGRADE_HINT}
        if page is not None:
            metadata["page"] = page.name
        return errors.PermissionDenied(
            f"{message}; {UPGRADE_HINT}", reason="DIRECTORY_FILTERS_NOT_ENTITLED", metadata=metadata
        )


def plan_limits(
    kind: PageKind,
    uow: UnitOfWorkFactory[MembershipUnitOfWork],
    entitlements: EntitlementsSource | None,
    others: RemoteMembership | None,
) -> tuple[SeatLimit, DirectoryFilterGate]:
    """What a page service of `kind` enforces of its pages' plans: seats, and its directory's filters."""
    return SeatLimit(kind, entitlements), DirectoryFilterGate(ViewerMembership(kind, uow, others), entitlements)


def connect_plan_sources(
    settings: PageServiceSettings, channels: ChannelFactory, cache: Cache, others: Mapping[PageKind, str]
) -> tuple[EntitlementsSource, PagesAccess]:
    """A page service's billing client (BILLING_TARGET) and its membership check of the other kinds' pages
    (`others`: kind -> gRPC target, asked with the service's own identity), for `plan_limits`."""
    entitlements = connect_entitlements(settings, channels, cache)
    return entitlements, PagesAccess.connect(channels, others, cache, settings.page_access_cache_ttl_seconds)

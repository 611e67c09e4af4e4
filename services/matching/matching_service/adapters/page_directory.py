"""PageDirectory over gRPC: CheckPageAccess (cached, through RemotePageAccess) and BatchGet* of the
company, investor and program services, called with this service's own identity."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import grpc

from devinsider.company.v1 import company_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider.program.v1 import program_pb2
from devinsider_common import errors
from devinsider_common.cache import Cache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageKind, parse_page
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pages.services import PageServices
from matching_service.domain.pages import PageStatus

BATCH = 200


def company_status(c: company_pb2.Company) -> PageStatus:
    return PageStatus(
        page=parse_page(c.name, "name", (PageKind.COMPANY,)),
        active=c.state == company_pb2.COMPANY_STATE_ACTIVE,
        program_complete=c.completeness.program_matchmaking,
        investor_complete=c.completeness.investor_matchmaking,
        display_name=c.display_name,
        logo_url=c.logo_url,
        tagline=c.tagline,
        country_code=c.hq_country_code,
    )


def investor_status(i: investor_pb2.Investor) -> PageStatus:
    return PageStatus(
        page=parse_page(i.name, "name", (PageKind.INVESTOR,)),
        active=i.state == investor_pb2.INVESTOR_STATE_ACTIVE,
        display_name=i.display_name,
        logo_url=i.logo_url,
        tagline=i.tagline,
        country_code=i.hq_country_code,
    )


def program_status(p: program_pb2.Program) -> PageStatus:
    return PageStatus(
        page=parse_page(p.name, "name", (PageKind.PROGRAM,)),
        active=p.state == program_pb2.PROGRAM_STATE_PUBLISHED,
        vendor_company=p.vendor_company,
        display_name=p.display_name,
        logo_url=p.logo_url,
        tagline=p.tagline,
        country_code=p.country_codes[0] if len(p.country_codes) == 1 else "",
    )


STATUS_OF: dict[PageKind, Callable[[Any], PageStatus]] = {
    PageKind.COMPANY: company_status,
    PageKind.INVESTOR: investor_status,
    PageKind.PROGRAM: program_status,
}


class GrpcPageDirectory:
    def __init__(
        self, channels: ChannelFactory, targets: dict[PageKind, str], cache: Cache, access_ttl_seconds: float
    ) -> None:
        self._pages = PageServices.connect(channels, targets)
        self._access = self._pages.access(cache, access_ttl_seconds)

    def require(self, page: str, subject: str, permission: PagePermission) -> PageRole:
        return self._access.require(page, subject, permission)

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool:
        return self._access.allowed(page, subject, permission)

    def statuses(self, names: Iterable[str]) -> dict[str, PageStatus]:
        grouped: dict[PageKind, list[str]] = {}
        for name in dict.fromkeys(names):
            kind = PageKind.of(name)
            if kind is not None:
                grouped.setdefault(kind, []).append(name)
        found: dict[str, PageStatus] = {}
        for kind, wanted in grouped.items():
            for start in range(0, len(wanted), BATCH):
                for message in _call(self._pages.batch_get, kind, wanted[start : start + BATCH]):
                    status = STATUS_OF[kind](message)
                    found[status.page.name] = status
        return found


def _call(method: Callable[..., Any], *args: Any) -> Any:
    try:
        return method(*args)
    except grpc.RpcError as error:
        raise errors.Unavailable(f"cannot fetch page summaries: {error.code().name}") from error

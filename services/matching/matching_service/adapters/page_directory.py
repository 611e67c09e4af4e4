"""PageDirectory over gRPC: CheckPageAccess (cached, through RemotePageAccess) and BatchGet* of the
company, investor and program services, called with this service's own identity.

`STATUS_OF` maps a page as its service returns it (BatchGet*, and the page events, which carry the same
message) to its status and its facts: the page fields documented as codes of the matching taxonomy,
spelt as the taxonomy spells them (countries upper case, other codes lower case), and the company's
size and revenue enums as the codes of those dimensions (`COMPANY_SIZE_11_50` is `11_50`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import grpc

from devinsider.common.v1 import money_pb2
from devinsider.company.v1 import company_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider.program.v1 import program_pb2
from devinsider_common import errors
from devinsider_common.cache import Cache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageKind, parse_page
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pages.services import PageServices
from matching_service.domain.facts import PageFacts
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import FundingNeed, Money
from matching_service.domain.taxonomy import Dimension

BATCH = 200


def _codes(*groups: Iterable[str], upper: bool = False) -> tuple[str, ...]:
    """Non-blank codes, trimmed, in one case, deduplicated in order."""
    cased = (c.strip().upper() if upper else c.strip().lower() for group in groups for c in group)
    return tuple(dict.fromkeys(c for c in cased if c))


def _step(name: Callable[[Any], str], value: int, prefix: str) -> tuple[str, ...]:
    """The code of an ordinal enum value (`COMPANY_SIZE_11_50` -> `11_50`), `name` its enum's `Name`; none
    when unset or unknown."""
    try:
        return (name(value).removeprefix(prefix).lower(),) if value else ()
    except ValueError:  # a value newer than these protos: nothing to score
        return ()


def _money(message: Any, field: str) -> Money | None:
    if not message.HasField(field):
        return None
    money: money_pb2.Money = getattr(message, field)
    return Money(money.currency_code.strip().upper(), money.amount_minor)


def _facts(codes: dict[Dimension, tuple[str, ...]], **values: Any) -> PageFacts:
    return PageFacts({d: c for d, c in codes.items() if c}, **values)


def company_status(c: company_pb2.Company) -> PageStatus:
    fin = c.financials
    facts = _facts(
        {
            Dimension.INDUSTRY: _codes(c.industries),
            Dimension.TECHNOLOGY: _codes(c.solution_categories),
            Dimension.COUNTRY: _codes([c.hq_country_code], c.target_country_codes, upper=True)
            + _codes(c.target_regions),
            Dimension.COMPANY_SIZE: _step(company_pb2.CompanySize.Name, c.company_size, "COMPANY_SIZE_"),
            Dimension.REVENUE_RANGE: _step(company_pb2.RevenueRange.Name, fin.revenue_range, "REVENUE_RANGE_"),
        },
        funding_need=FundingNeed(fin.looking_for_funding, _money(fin, "funding_target")),
    )
    return PageStatus(
        page=parse_page(c.name, "name", (PageKind.COMPANY,)),
        active=c.state == company_pb2.COMPANY_STATE_ACTIVE,
        program_complete=c.completeness.program_matchmaking,
        investor_complete=c.completeness.investor_matchmaking,
        display_name=c.display_name,
        logo_url=c.logo_url,
        tagline=c.tagline,
        country_code=c.hq_country_code,
        facts=facts,
    )


def investor_status(i: investor_pb2.Investor) -> PageStatus:
    facts = _facts(
        {
            Dimension.INDUSTRY: _codes(i.industries),
            Dimension.TECHNOLOGY: _codes(i.solution_categories),
            Dimension.COUNTRY: _codes(i.country_codes, upper=True) + _codes(i.regions),
            Dimension.FUNDING_STAGE: _codes(i.funding_stages),
        },
        ticket_min=_money(i, "ticket_min"),
        ticket_max=_money(i, "ticket_max"),
    )
    return PageStatus(
        page=parse_page(i.name, "name", (PageKind.INVESTOR,)),
        active=i.state == investor_pb2.INVESTOR_STATE_ACTIVE,
        display_name=i.display_name,
        logo_url=i.logo_url,
        tagline=i.tagline,
        country_code=i.hq_country_code,
        facts=facts,
    )


def program_status(p: program_pb2.Program) -> PageStatus:
    facts = _facts(
        {
            Dimension.INDUSTRY: _codes(p.industries),
            Dimension.TECHNOLOGY: _codes(p.solution_categories),
            Dimension.COUNTRY: _codes(p.country_codes, upper=True) + _codes(p.regions),
        }
    )
    return PageStatus(
        page=parse_page(p.name, "name", (PageKind.PROGRAM,)),
        active=p.state == program_pb2.PROGRAM_STATE_PUBLISHED,
        vendor_company=p.vendor_company,
        display_name=p.display_name,
        logo_url=p.logo_url,
        tagline=p.tagline,
        country_code=p.country_codes[0] if len(p.country_codes) == 1 else "",
        facts=facts,
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

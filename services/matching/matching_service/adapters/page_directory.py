"""PageDirectory over gRPC: CheckPageAccess (cached, through RemotePageAccess) and BatchGet* of the
company, investor and program services, called with this service's own identity. `summaries` keeps
the BatchGet* answers in the shared cache (`page_summary:<page name>`, the message's bytes) for the TTL;
the page's event drops its entry (`forget`), so a list shows an edit once matching has its event.

`STATUS_OF` maps a page as its service returns it (BatchGet*, and the page events, which carry the same
message) to its status and its facts: the page fields documented as codes of the matching taxonomy,
spelt as the taxonomy spells them (countries upper case, other codes lower case), and the company's
size and revenue enums as the codes of those dimensions (`COMPANY_SIZE_11_50` is `11_50`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import grpc
import structlog
from google.protobuf.message import DecodeError, Message

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

log = structlog.get_logger("matching.page_directory")

BATCH = 200
SUMMARY_ENTITY = "page_summary"
MESSAGE_OF: dict[PageKind, type[Message]] = {
    PageKind.COMPANY: company_pb2.Company,
    PageKind.INVESTOR: investor_pb2.Investor,
    PageKind.PROGRAM: program_pb2.Program,
}


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
        self,
        channels: ChannelFactory,
        targets: dict[PageKind, str],
        cache: Cache,
        access_ttl_seconds: float,
        summary_ttl_seconds: float = 0.0,
    ) -> None:
        self._pages = PageServices.connect(channels, targets)
        self._access = self._pages.access(cache, access_ttl_seconds)
        self._cache = cache  # shared, not near(): `forget` must reach every replica
        self._summary_ttl = summary_ttl_seconds

    def require(self, page: str, subject: str, permission: PagePermission) -> PageRole:
        return self._access.require(page, subject, permission)

    def allowed(self, page: str, subject: str, permission: PagePermission) -> bool:
        return self._access.allowed(page, subject, permission)

    def statuses(self, names: Iterable[str]) -> dict[str, PageStatus]:
        return {status.page.name: status for _, status in self._fetch(names)}

    def summaries(self, names: Iterable[str]) -> dict[str, PageStatus]:
        wanted = list(dict.fromkeys(names))
        if self._summary_ttl <= 0 or not wanted:
            return self.statuses(wanted)
        found = {
            name: status
            for name, raw in self._cache.get_many(SUMMARY_ENTITY, wanted).items()
            if (status := _cached_status(name, raw)) is not None
        }
        for message, status in self._fetch(n for n in wanted if n not in found):
            self._cache.set(SUMMARY_ENTITY, status.page.name, message.SerializeToString(), self._summary_ttl)
            found[status.page.name] = status
        return found

    def forget(self, page: str) -> None:
        self._cache.delete(SUMMARY_ENTITY, page)

    def _fetch(self, names: Iterable[str]) -> Iterator[tuple[Message, PageStatus]]:
        """Each existing page among `names` as its service returns it, and its status: one BatchGet* per
        owning service and BATCH names."""
        grouped: dict[PageKind, list[str]] = {}
        for name in dict.fromkeys(names):
            kind = PageKind.of(name)
            if kind is not None:
                grouped.setdefault(kind, []).append(name)
        for kind, wanted in grouped.items():
            for start in range(0, len(wanted), BATCH):
                for message in _call(self._pages.batch_get, kind, wanted[start : start + BATCH]):
                    yield message, STATUS_OF[kind](message)


def _cached_status(name: str, raw: bytes) -> PageStatus | None:
    """The status of a cached message; None (a miss) when it no longer reads as the page."""
    kind = PageKind.of(name)
    if kind is None:
        return None
    try:
        status = STATUS_OF[kind](MESSAGE_OF[kind].FromString(raw))
    except (DecodeError, errors.InvalidArgument):
        log.warning("page_summary.unreadable", page=name)
        return None
    return status if status.page.name == name else None


def _call(method: Callable[..., Any], *args: Any) -> Any:
    try:
        return method(*args)
    except grpc.RpcError as error:
        raise errors.Unavailable(f"cannot fetch page summaries: {error.code().name}") from error

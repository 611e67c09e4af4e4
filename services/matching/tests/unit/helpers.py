"""Arranging the world of the use-case tests: profiles set through the use case, a market of programs."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar, cast

import grpc

from devinsider_common import context
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.testing.tokens import principal
from matching_service.domain.facts import PageFacts, own_values
from matching_service.domain.profile import PAGE_FIELDS, Criteria, CriteriaProfile, FundingNeed, Money, TicketRange
from matching_service.domain.taxonomy import Dimension
from matching_service.entrypoints.grpc_servicer import MatchingServicer

from ..fakes import World

T = TypeVar("T")
IND, TECH, COUNTRY, STAGE, SIZE, REVENUE, PARTNER, MODEL = (
    Dimension.INDUSTRY,
    Dimension.TECHNOLOGY,
    Dimension.COUNTRY,
    Dimension.FUNDING_STAGE,
    Dimension.COMPANY_SIZE,
    Dimension.REVENUE_RANGE,
    Dimension.PARTNER_TYPE,
    Dimension.BUSINESS_MODEL,
)
ALICE, PAT, IVAN, EVE = (
    principal("alice"),
    principal("pat", ("program",)),
    principal("ivan", ("investor",)),
    principal("eve"),
)
NO_CONTEXT = cast(grpc.ServicerContext, None)  # the servicer never reads it


def page(name: str) -> PageName:
    return parse_page(name, "name")


def eur(amount: int) -> Money:
    return Money("EUR", amount)


def profile(
    name: str,
    criteria: Mapping[Dimension, Criteria | tuple[str, ...]] | None = None,
    *,
    funding_need: FundingNeed | None = None,
    ticket_range: TicketRange | None = None,
) -> CriteriaProfile:
    entries = {d: c if isinstance(c, Criteria) else Criteria(c) for d, c in (criteria or {}).items()}
    return CriteriaProfile(page(name), entries, funding_need, ticket_range)


def set_profile(
    matching: World, who: Principal, name: str, criteria: dict[Dimension, Any], **extra: Any
) -> CriteriaProfile:
    """Set the criteria (and the funding need or ticket range given) of `name` where each now lives: the
    codes of the dimensions its page holds, a company's funding need and an investor's ticket bounds on the
    page (as its owner would edit it), the rest and every `required` flag through the profile use case."""
    wanted = profile(name, criteria, **extra)
    kind = wanted.page.kind
    if name in matching.pages.pages:
        owned = PAGE_FIELDS[kind]
        facts = matching.pages.pages[name].facts or PageFacts()
        facts = replace(facts, codes={d: c.codes for d, c in wanted.criteria.items() if d in owned and c.codes})
        if "funding_need" in extra and kind is PageKind.COMPANY:
            facts = replace(facts, funding_need=wanted.funding_need)
        if "ticket_range" in extra and kind is PageKind.INVESTOR:
            ticket = wanted.ticket_range
            facts = replace(facts, ticket_min=ticket.min if ticket else None, ticket_max=ticket.max if ticket else None)
        matching.pages.update(name, facts=facts)
    return matching.app.profiles.update(who, own_values(wanted), {"criteria", *extra})


def market(matching: World) -> None:
    """acme and programs with known scores (the default weights): p-full 100, p-half and p-twin 50,
    p-required, p-draft and p-own gated."""
    pages = matching.pages
    pages.add("companies/acme", owner="alice", display_name="Acme")
    set_profile(matching, ALICE, "companies/acme", {IND: ("fintech", "retail"), COUNTRY: ("FR",)})
    programs: dict[str, tuple[dict[str, Any], dict[Dimension, Any]]] = {
        "programs/p-full": ({}, {IND: ("fintech",), COUNTRY: ("FR",)}),
        "programs/p-half": ({}, {IND: ("fintech", "edtech"), COUNTRY: ("DE",)}),  # (3 x .5 + 2 x .5) / 5
        "programs/p-twin": ({}, {IND: ("fintech", "edtech"), COUNTRY: ("DE",)}),  # ties sort by name
        "programs/p-required": ({}, {IND: Criteria(("edtech",), True), COUNTRY: ("FR",)}),
        "programs/p-draft": ({"active": False}, {IND: ("fintech",)}),
        "programs/p-own": ({"vendor_company": "companies/acme"}, {IND: ("fintech",)}),
    }
    for name, (status, criteria) in programs.items():
        pages.add(name, owner="pat", **status)
        set_profile(matching, PAT, name, criteria)


@contextmanager
def calling_as(who: Principal | None) -> Iterator[None]:
    """The principal the server's interceptor would set for the call."""
    token = context.principal_var.set(who)
    try:
        yield
    finally:
        context.principal_var.reset(token)


def rpc(matching: World, who: Principal | None, call: Callable[[MatchingServicer], T]) -> T:
    """Call a servicer method in process (request parsing and mapping, no transport)."""
    with calling_as(who):
        return call(MatchingServicer(matching.app))

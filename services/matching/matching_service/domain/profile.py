"""Criteria profiles: what a company is, what a program or an investor looks for; which of those facts
the page holds itself (`PAGE_FIELDS`) and a profile may not."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from devinsider_common.errors import Violations
from devinsider_common.pages.names import PageKind, PageName
from matching_service.domain.taxonomy import CODED, Dimension, Scale, Taxonomy

MAX_CODES = 100
PROFILE_FIELDS = ("criteria", "funding_need", "ticket_range")
# The largest amount a page may state (10^15 minor units): the top of a ticket range left open.
MAX_AMOUNT_MINOR = 10**15

# The facts each kind of page holds itself, by the page fields holding them. The page is their source of
# truth (docs/decisions.md): a profile never holds their values (its effective profile takes them from
# the page, `facts.effective_profile`), only their `required` flags. FUNDING_AMOUNT is the company's
# funding need (`funding_need`) or the investor's ticket bounds (`ticket_range.min`, `.max`).
PAGE_FIELDS: dict[PageKind, dict[Dimension, str]] = {
    PageKind.COMPANY: {
        Dimension.INDUSTRY: "industries",
        Dimension.TECHNOLOGY: "solution_categories",
        Dimension.COUNTRY: "hq_country_code, target_country_codes and target_regions",
        Dimension.COMPANY_SIZE: "company_size",
        Dimension.REVENUE_RANGE: "financials.revenue_range",
        Dimension.FUNDING_AMOUNT: "financials.looking_for_funding and financials.funding_target",
    },
    PageKind.INVESTOR: {
        Dimension.INDUSTRY: "industries",
        Dimension.TECHNOLOGY: "solution_categories",
        Dimension.COUNTRY: "country_codes and regions",
        Dimension.FUNDING_STAGE: "funding_stages",
        Dimension.FUNDING_AMOUNT: "ticket_min and ticket_max",
    },
    PageKind.PROGRAM: {
        Dimension.INDUSTRY: "industries",
        Dimension.TECHNOLOGY: "solution_categories",
        Dimension.COUNTRY: "country_codes and regions",
    },
}


def page_dimensions(kind: PageKind) -> tuple[Dimension, ...]:
    """The dimensions whose values a page of `kind` holds itself, in enum order."""
    return tuple(sorted(PAGE_FIELDS[kind]))


def from_the_page(page: PageName, dimension: Dimension) -> str:
    """Why a value is refused: it is the page's (the field violation names the page field to edit)."""
    return f"is taken from {page.name} ({PAGE_FIELDS[page.kind][dimension]}): edit the page"


@dataclass(frozen=True)
class Money:
    currency_code: str
    amount_minor: int


@dataclass(frozen=True)
class Criteria:
    """One dimension's codes (and, for targets, whether a company must meet one of them)."""

    codes: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class FundingNeed:
    looking_for_funding: bool = False
    amount: Money | None = None


@dataclass(frozen=True)
class TicketRange:
    # Both ends in an effective profile (the investor page's); none in a stored one, which keeps only
    # `required` (a profile stored before migration 0004 may still hold both until the page is read).
    min: Money | None
    max: Money | None
    required: bool = False

    @property
    def bounds(self) -> tuple[Money, Money] | None:
        return (self.min, self.max) if self.min is not None and self.max is not None else None


@dataclass(frozen=True)
class CriteriaProfile:
    page: PageName
    criteria: dict[Dimension, Criteria] = field(default_factory=dict)
    funding_need: FundingNeed | None = None
    ticket_range: TicketRange | None = None
    taxonomy_version: int = 0
    updated_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.page.name}/criteriaProfile"

    def codes(self, dimension: Dimension) -> tuple[str, ...]:
        entry = self.criteria.get(dimension)
        return entry.codes if entry else ()

    def required(self, dimension: Dimension) -> bool:
        if dimension is Dimension.FUNDING_AMOUNT:
            return self.ticket_range is not None and self.ticket_range.required
        entry = self.criteria.get(dimension)
        return bool(entry and entry.required)

    def states(self, dimension: Dimension) -> bool:
        """Whether a target states this dimension (empty dimensions do not count in scores)."""
        if dimension is Dimension.FUNDING_AMOUNT:
            return self.ticket_range is not None and self.ticket_range.bounds is not None
        return bool(self.codes(dimension))


def validate_profile(
    profile: CriteriaProfile,
    taxonomy: Taxonomy,
    previous: CriteriaProfile | None,
    fields: Collection[str] = PROFILE_FIELDS,
) -> None:
    """Every rule the `fields` of a profile must satisfy against the latest taxonomy; InvalidArgument
    naming each bad field.

    Deprecated codes are refused unless the page already had them (they stay for existing profiles).
    Values the page holds itself (`PAGE_FIELDS`) are refused; their `required` flags are not. Only the
    fields given are checked: the others are the stored profile's (which may be older than this rule).
    """
    v = Violations()
    page = profile.page
    kind = page.kind
    owned = PAGE_FIELDS[kind]
    for dimension, entry in profile.criteria.items() if "criteria" in fields else ():
        path = f"criteria_profile.criteria[{dimension.key}]"
        if dimension not in CODED:
            v.add(path, "the funding amount has its own fields (funding_need, ticket_range)")
            continue
        if kind is PageKind.COMPANY:
            v.check(not entry.required, f"{path}.required", "is for program and investor targets only")
        if dimension in owned:
            v.check(not entry.codes, f"{path}.codes", from_the_page(page, dimension))
            continue
        if len(entry.codes) > MAX_CODES:
            v.add(f"{path}.codes", f"at most {MAX_CODES} codes")
        kept = set(previous.codes(dimension)) if previous else set()
        for code in entry.codes:
            criterion = taxonomy.get(dimension, code)
            if criterion is None:
                v.add(f"{path}.codes", f"unknown {dimension.key} code {code!r}")
            elif criterion.deprecated and code not in kept:
                v.add(f"{path}.codes", f"{code!r} is deprecated")
        if kind is PageKind.COMPANY:
            if dimension.scale is Scale.ORDINAL:
                v.check(len(entry.codes) <= 1, f"{path}.codes", "a company has one value on this dimension")
        else:
            v.check(not entry.required or bool(entry.codes), f"{path}.required", "needs at least one code")
    if "funding_need" in fields and profile.funding_need is not None:
        if kind is PageKind.COMPANY:
            v.add("criteria_profile.funding_need", from_the_page(page, Dimension.FUNDING_AMOUNT))
        else:
            v.add("criteria_profile.funding_need", "is for company profiles only")
    if "ticket_range" in fields and profile.ticket_range is not None:
        ticket = profile.ticket_range
        if kind is not PageKind.INVESTOR:
            v.add("criteria_profile.ticket_range", "is for investor profiles only")
        else:
            for end, value in (("min", ticket.min), ("max", ticket.max)):
                v.check(
                    value is None, f"criteria_profile.ticket_range.{end}", from_the_page(page, Dimension.FUNDING_AMOUNT)
                )
    v.raise_if_any("the criteria profile is invalid")

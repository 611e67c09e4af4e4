"""Criteria profiles: what a company is, what a program or an investor looks for."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from devinsider_common.errors import Violations
from devinsider_common.pages.names import PageKind, PageName
from matching_service.domain.taxonomy import CODED, Dimension, Scale, Taxonomy

MAX_CODES = 100
PROFILE_FIELDS = ("criteria", "funding_need", "ticket_range")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT_MINOR = 10**15


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
    min: Money
    max: Money
    required: bool = False


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
            return self.ticket_range is not None
        return bool(self.codes(dimension))


def validate_profile(profile: CriteriaProfile, taxonomy: Taxonomy, previous: CriteriaProfile | None) -> None:
    """Every rule a profile must satisfy against the latest taxonomy; InvalidArgument naming each bad field.

    Deprecated codes are refused unless the page already had them (they stay for existing profiles).
    """
    v = Violations()
    kind = profile.page.kind
    for dimension, entry in profile.criteria.items():
        path = f"criteria_profile.criteria[{dimension.key}]"
        if dimension not in CODED:
            v.add(path, "the funding amount has its own fields (funding_need, ticket_range)")
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
            v.check(not entry.required, f"{path}.required", "is for program and investor targets only")
            if dimension.scale is Scale.ORDINAL:
                v.check(len(entry.codes) <= 1, f"{path}.codes", "a company has one value on this dimension")
        else:
            v.check(not entry.required or bool(entry.codes), f"{path}.required", "needs at least one code")
    if profile.funding_need is not None:
        if kind is not PageKind.COMPANY:
            v.add("criteria_profile.funding_need", "is for company profiles only")
        elif profile.funding_need.amount is not None:
            _money(v, "criteria_profile.funding_need.amount", profile.funding_need.amount)
    if profile.ticket_range is not None:
        ticket = profile.ticket_range
        if kind is not PageKind.INVESTOR:
            v.add("criteria_profile.ticket_range", "is for investor profiles only")
        else:
            _money(v, "criteria_profile.ticket_range.min", ticket.min)
            _money(v, "criteria_profile.ticket_range.max", ticket.max)
            v.check(
                ticket.min.currency_code == ticket.max.currency_code,
                "criteria_profile.ticket_range.max",
                "must be in the currency of min",
            )
            v.check(ticket.max.amount_minor >= ticket.min.amount_minor, "criteria_profile.ticket_range.max", "< min")
            v.check(ticket.max.amount_minor > 0, "criteria_profile.ticket_range.max", "must be positive")
    v.raise_if_any("the criteria profile is invalid")


def _money(v: Violations, path: str, money: Money) -> None:
    v.check(bool(_CURRENCY.match(money.currency_code)), f"{path}.currency_code", "must be an ISO 4217 code")
    v.check(0 <= money.amount_minor <= MAX_AMOUNT_MINOR, f"{path}.amount_minor", "must be between 0 and 10^15")

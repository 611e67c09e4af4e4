"""Page facts: what a page itself says about the dimensions it holds (`profile.PAGE_FIELDS`), and the
effective profile matching scores, the stored profile with those dimensions taken from the page.

The page is the source of truth of every fact it holds; a profile keeps only what pages do not hold
(partner types, business models, a company's funding stage, what a target wants of a company's size...)
and the `required` flags of every dimension (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from devinsider_common.pages.names import PageKind
from matching_service.domain.profile import (
    MAX_AMOUNT_MINOR,
    PAGE_FIELDS,
    Criteria,
    CriteriaProfile,
    FundingNeed,
    Money,
    TicketRange,
)
from matching_service.domain.taxonomy import Dimension, Taxonomy


@dataclass(frozen=True)
class PageFacts:
    """The facts a page holds, as its owning service last gave them."""

    # Codes per dimension the page holds (only the dimensions it states), spelt as the taxonomy spells them.
    codes: Mapping[Dimension, tuple[str, ...]] = field(default_factory=dict)
    # Companies: `financials.looking_for_funding` and `financials.funding_target`.
    funding_need: FundingNeed | None = None
    # Investors: `ticket_min`, `ticket_max` (either may be left open).
    ticket_min: Money | None = None
    ticket_max: Money | None = None

    def ticket(self, required: bool) -> TicketRange | None:
        """The investor's ticket range (an open end reads as 0, or as the largest amount a page may state);
        without one, only a `required` flag to show."""
        low, high = self.ticket_min, self.ticket_max
        if low is not None:
            return TicketRange(low, high or Money(low.currency_code, MAX_AMOUNT_MINOR), required)
        if high is not None:
            return TicketRange(Money(high.currency_code, 0), high, required)
        return TicketRange(None, None, True) if required else None


def effective_profile(profile: CriteriaProfile, facts: PageFacts | None, taxonomy: Taxonomy) -> CriteriaProfile:
    """The profile matching scores: `profile` with every dimension its page holds replaced by the page's
    facts (the codes `taxonomy` knows: others cannot score), the profile's `required` flags kept. While the
    facts are not known yet (`None`: a page not read since migration 0004) the profile's own values count."""
    if facts is None:
        return profile
    kind = profile.page.kind
    owned = PAGE_FIELDS[kind]
    criteria = {d: c for d, c in profile.criteria.items() if d not in owned}
    for dimension in owned:
        if dimension is Dimension.FUNDING_AMOUNT:
            continue
        known = taxonomy.known(dimension, facts.codes.get(dimension, ()))
        required = profile.required(dimension)
        if known or required:
            criteria[dimension] = Criteria(known, required)
    funding_need, ticket_range = profile.funding_need, profile.ticket_range
    if kind is PageKind.COMPANY:
        funding_need = facts.funding_need
    elif kind is PageKind.INVESTOR:
        ticket_range = facts.ticket(profile.required(Dimension.FUNDING_AMOUNT))
    return replace(profile, criteria=criteria, funding_need=funding_need, ticket_range=ticket_range)


def own_values(profile: CriteriaProfile) -> CriteriaProfile:
    """The profile without the values its page holds, their `required` flags kept: what matching stores
    once the page's facts are known (a profile stored before migration 0004 may hold some)."""
    kind = profile.page.kind
    owned = PAGE_FIELDS[kind]
    criteria = {
        d: c if d not in owned else Criteria((), True)
        for d, c in profile.criteria.items()
        if d not in owned or c.required
    }
    funding_need, ticket_range = profile.funding_need, profile.ticket_range
    if kind is PageKind.COMPANY:
        funding_need = None
    elif kind is PageKind.INVESTOR and ticket_range is not None:
        ticket_range = TicketRange(None, None, True) if ticket_range.required else None
    return replace(profile, criteria=criteria, funding_need=funding_need, ticket_range=ticket_range)

"""Gates: why a pair of pages is not scored at all (checked before any score, in this order)."""

from __future__ import annotations

import enum

from devinsider_common.pages.names import PageKind
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import CriteriaProfile


class Gate(enum.IntEnum):
    """Values of devinsider.matching.v1.MatchGate (0: eligible)."""

    NONE = 0
    BLOCKED = 1
    OWN_PAGE = 2
    TARGET_INACTIVE = 3
    COMPANY_INCOMPLETE = 4
    NOT_LOOKING_FOR_FUNDING = 5
    REQUIRED_CRITERION_UNMET = 6


def own_page(company: PageStatus, target: PageStatus) -> bool:
    """Both pages belong to the same organisation: the program is run by the company itself."""
    return bool(target.vendor_company) and target.vendor_company == company.page.name


def looking_for_funding(company: CriteriaProfile | None) -> bool:
    return company is not None and company.funding_need is not None and company.funding_need.looking_for_funding


def first_gate(
    company: PageStatus,
    target: PageStatus,
    company_profile: CriteriaProfile | None,
    *,
    blocked: bool,
    required_unmet: bool,
) -> Gate:
    kind = target.page.kind
    if blocked:
        return Gate.BLOCKED
    if own_page(company, target):
        return Gate.OWN_PAGE
    if not target.active:
        return Gate.TARGET_INACTIVE
    if not company.active or not company.complete_for(kind):
        return Gate.COMPANY_INCOMPLETE
    if kind is PageKind.INVESTOR and not looking_for_funding(company_profile):
        return Gate.NOT_LOOKING_FOR_FUNDING
    if required_unmet:
        return Gate.REQUIRED_CRITERION_UNMET
    return Gate.NONE

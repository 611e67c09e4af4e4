"""Pages as the matching service sees them: what their owning service last said about them.

Page kinds, names and their parsing are `devinsider_common.pages.names`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from devinsider_common.pages.names import PageKind, PageName
from matching_service.domain.facts import PageFacts, effective_profile
from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.taxonomy import Taxonomy

TARGET_KINDS = (PageKind.PROGRAM, PageKind.INVESTOR)


@dataclass(frozen=True)
class PageStatus:
    """What the owning service last said about a page, as far as matching cares (gates, summaries, and
    the facts the page holds for scores)."""

    page: PageName
    active: bool = False
    # Companies: whether the page is complete enough for program / investor matchmaking.
    program_complete: bool = False
    investor_complete: bool = False
    # Programs: the company page of the vendor running it (`companies/{id}`), if any.
    vendor_company: str = ""
    display_name: str = ""
    logo_url: str = ""
    tagline: str = ""
    country_code: str = ""
    # None: not known yet (a status stored before migration 0004); the page's profile keeps its own values.
    facts: PageFacts | None = None

    def complete_for(self, target_kind: PageKind) -> bool:
        return self.program_complete if target_kind is PageKind.PROGRAM else self.investor_complete


def effective(profile: CriteriaProfile, status: PageStatus | None, taxonomy: Taxonomy) -> CriteriaProfile:
    """The profile matching scores (`facts.effective_profile`), with the facts of the page's status."""
    return effective_profile(profile, status.facts if status is not None else None, taxonomy)


def deleted_status(page: PageName, last: PageStatus | None) -> PageStatus:
    """A page its owning service deleted (or no longer returns): inactive, its last summary kept."""
    return replace(last or PageStatus(page), active=False)


@dataclass(frozen=True)
class PageChange:
    """What an owning service's event says about one of its pages, as of `at` (its own clock)."""

    page: PageName
    status: PageStatus | None  # None: the page was deleted
    at: datetime

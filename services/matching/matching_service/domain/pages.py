"""Pages as the matching service sees them: what their owning service last said about them.

Page kinds, names and their parsing are `devinsider_common.pages.names`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from devinsider_common.pages.names import PageKind, PageName

TARGET_KINDS = (PageKind.PROGRAM, PageKind.INVESTOR)


@dataclass(frozen=True)
class PageStatus:
    """What the owning service last said about a page, as far as matching cares (gates, summaries)."""

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

    def complete_for(self, target_kind: PageKind) -> bool:
        return self.program_complete if target_kind is PageKind.PROGRAM else self.investor_complete


def deleted_status(page: PageName, last: PageStatus | None) -> PageStatus:
    """A page its owning service deleted (or no longer returns): inactive, its last summary kept."""
    return replace(last or PageStatus(page), active=False)


@dataclass(frozen=True)
class PageChange:
    """What an owning service's event says about one of its pages, as of `at` (its own clock)."""

    page: PageName
    status: PageStatus | None  # None: the page was deleted
    at: datetime

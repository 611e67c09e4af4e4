"""Directory searches: filters, orders, and who may see which states. No I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from company_service.domain.content import CompanyContent, CompanySize, LicensingModel
from company_service.domain.model import Company, CompanyState
from devinsider_common import errors

# order_by values -> (sort key, descending); a sort key is also the column the directory sorts on.
ORDERS: dict[str, tuple[str, bool]] = {
    "display_name": ("sort_name", False),
    "create_time desc": ("created_at", True),
    "update_time desc": ("updated_at", True),
}
PUBLIC_STATES = (CompanyState.ACTIVE, CompanyState.PRE_LISTED)
TOTAL_SIZE_CAP = 10_000
SORT_NAME_LENGTH = 120
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class DirectoryQuery:
    query: str = ""
    industries: tuple[str, ...] = ()
    solution_categories: tuple[str, ...] = ()
    hq_country_codes: tuple[str, ...] = ()
    target_regions: tuple[str, ...] = ()
    company_sizes: tuple[CompanySize, ...] = ()
    licensing_models: tuple[LicensingModel, ...] = ()
    looking_for_funding: bool | None = None
    states: tuple[CompanyState, ...] = PUBLIC_STATES
    member_subject: str | None = None  # only the pages this subject is a member of
    order_by: str = "display_name"
    orphaned: bool = False  # only the pages marked orphaned (staff)

    def criteria(self) -> list[str]:
        """The criteria filters the query uses, as the request names them: what `directory_filters` sells."""
        fields = ("industries", "solution_categories", "hq_country_codes", "target_regions", "company_sizes")
        used = [name for name in (*fields, "licensing_models") if getattr(self, name)]
        return used + (["looking_for_funding"] if self.looking_for_funding is not None else [])

    def search_words(self) -> list[str]:
        """The words of `query` a page's search text must all contain (lower-cased, the first few)."""
        return self.query.lower().split()[:MAX_SEARCH_WORDS]

    def fingerprint(self) -> dict[str, Any]:
        """What a page token is bound to (every filter and the order)."""
        values = self.__dict__.copy()
        return {key: [str(v) for v in value] if isinstance(value, tuple) else value for key, value in values.items()}


def search_text(content: CompanyContent) -> str:
    """What the `query` filter searches: the names, tagline and description, lower-cased."""
    return " ".join((content.display_name, content.legal_name, content.tagline, content.description)).lower()


def sort_name(display_name: str) -> str:
    """The default order's key: the display name, lower-cased and cut to its column's length."""
    return display_name.lower()[:SORT_NAME_LENGTH]


_SORT_VALUES: dict[str, Callable[[Company], str | datetime | None]] = {
    "sort_name": lambda company: sort_name(company.content.display_name),
    "created_at": lambda company: company.created_at,
    "updated_at": lambda company: company.updated_at,
}


def sort_value(company: Company, key: str) -> str | datetime | None:
    """The value of a page under one of the ORDERS' sort keys."""
    return _SORT_VALUES[key](company)


def position(company: Company, order_by: str) -> tuple[Any, ...]:
    """A page's keyset position in the order `order_by` (what the next page token carries):
    its sort value (times as ISO 8601 text) and its id."""
    value = sort_value(company, ORDERS[order_by][0])
    return (value.isoformat() if isinstance(value, datetime) else value, company.id)


def normalise_order(order_by: str) -> str:
    normalised = " ".join(order_by.lower().split()) or "display_name"
    if normalised == "display_name asc":
        normalised = "display_name"
    if normalised not in ORDERS:
        raise errors.InvalidArgument.for_field("order_by", f"must be one of: {', '.join(ORDERS)}")
    return normalised


def check_states(states: tuple[CompanyState, ...], staff: bool) -> tuple[CompanyState, ...]:
    """The states to list: active and pre-listed by default; others (claim pending, deleted) for staff only."""
    if not states:
        return PUBLIC_STATES
    hidden = [s for s in states if s not in PUBLIC_STATES]
    if hidden and not staff:
        raise errors.PermissionDenied(
            f"only platform staff list {', '.join(s.value for s in hidden)} pages", reason="STATE_FILTER_STAFF_ONLY"
        )
    return tuple(dict.fromkeys(states))

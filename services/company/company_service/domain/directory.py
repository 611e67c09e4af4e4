"""Directory searches: filters, orders, and who may see which states. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from company_service.domain.model import CompanySize, CompanyState, LicensingModel
from devinsider_common import errors

# order_by values -> (column, descending)
ORDERS: dict[str, tuple[str, bool]] = {
    "display_name": ("sort_name", False),
    "create_time desc": ("created_at", True),
    "update_time desc": ("updated_at", True),
}
PUBLIC_STATES = (CompanyState.ACTIVE, CompanyState.PRE_LISTED)
TOTAL_SIZE_CAP = 10_000


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

    def fingerprint(self) -> dict[str, Any]:
        """What a page token is bound to (every filter and the order)."""
        values = self.__dict__.copy()
        return {key: [str(v) for v in value] if isinstance(value, tuple) else value for key, value in values.items()}


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

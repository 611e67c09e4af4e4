"""The matching service's settings: the shared ones, the page services' addresses, scoring weights."""

from __future__ import annotations

from pydantic import Field, field_validator

from devinsider_common.entitlements import EntitlementSettings
from devinsider_common.pages.names import PageKind
from devinsider_common.settings import ServiceSettings
from matching_service.domain.scoring import Weights
from matching_service.domain.taxonomy import Dimension, dimension_by_key

# Relative weights per kind of match (normalised over the dimensions each target states).
PROGRAM_WEIGHTS = {
    "industry": 3.0,
    "technology": 3.0,
    "country": 2.0,
    "partner_type": 2.0,
    "company_size": 1.0,
    "revenue_range": 1.0,
    "business_model": 1.0,
    "funding_stage": 0.5,
    "funding_amount": 0.0,
}
INVESTOR_WEIGHTS = {
    "industry": 2.0,
    "technology": 2.0,
    "country": 1.5,
    "funding_stage": 3.0,
    "funding_amount": 3.0,
    "revenue_range": 1.0,
    "company_size": 0.5,
    "business_model": 1.0,
    "partner_type": 0.0,
}


class MatchingSettings(ServiceSettings, EntitlementSettings):
    service_name: str = "matching"
    grpc_port: int = 50055
    company_target: str = "127.0.0.1:50052"
    investor_target: str = "127.0.0.1:50053"
    program_target: str = "127.0.0.1:50054"
    # BILLING_TARGET and ENTITLEMENTS_CACHE_TTL_SECONDS (EntitlementSettings): each page's match cap.
    # How long the platform access answer (blacklist) and page permissions may be reused.
    access_cache_ttl_seconds: float = 5.0
    page_access_cache_ttl_seconds: float = 10.0
    # How long the page summaries match lists show (the page services' BatchGet*) are kept in the shared
    # cache; a page's event drops its entry sooner. 0 asks the page services on every list.
    page_summary_cache_ttl_seconds: float = Field(default=60.0, ge=0)
    # How long callers (billing, ...) may cache a CheckBlocked answer (its `cache_ttl_seconds`).
    check_blocked_cache_ttl_seconds: int = Field(default=30, ge=0)
    program_weights: dict[str, float] = PROGRAM_WEIGHTS
    investor_weights: dict[str, float] = INVESTOR_WEIGHTS
    # A pair first scoring at least this publishes MatchFound; at most this many per profile change.
    significant_match_score: float = 75.0
    max_match_announcements: int = 50
    # How often announcements a profile change still owes (a crash, a failed drain) are drained.
    announcement_drain_interval_seconds: float = 10.0
    # Bound on how long a change made on another replica takes to reach this one's index.
    index_poll_interval_seconds: float = 1.0
    # How often page statuses (active, published, complete) are re-read from the page services: a
    # slow safety net, since their page events (queue `matching.pages`) bring each change within seconds.
    page_status_refresh_seconds: float = 3600.0

    @field_validator("program_weights", "investor_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        for key, weight in value.items():
            if dimension_by_key(key) is None:
                raise ValueError(f"unknown dimension {key!r}")
            if weight < 0:
                raise ValueError(f"the weight of {key} must not be negative")
        return value

    def page_targets(self) -> dict[PageKind, str]:
        """The address of the service owning each kind of page."""
        return {
            PageKind.COMPANY: self.company_target,
            PageKind.INVESTOR: self.investor_target,
            PageKind.PROGRAM: self.program_target,
        }

    def weights(self) -> dict[PageKind, Weights]:
        def convert(raw: dict[str, float]) -> dict[Dimension, float]:
            return {d: float(raw.get(d.key, 0.0)) for d in Dimension}

        return {PageKind.PROGRAM: convert(self.program_weights), PageKind.INVESTOR: convert(self.investor_weights)}

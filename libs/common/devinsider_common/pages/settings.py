"""Settings every page service (company, investor, program) declares the same way: invitations, the
CheckPageAccess answer and billing's entitlements. Each service's settings class subclasses PageServiceSettings."""

from __future__ import annotations

from devinsider_common.entitlements import EntitlementSettings
from devinsider_common.settings import ServiceSettings


class PageServiceSettings(ServiceSettings, EntitlementSettings):
    """BILLING_TARGET and ENTITLEMENTS_CACHE_TTL_SECONDS (EntitlementSettings): each page's seats and whether
    its plan includes directory filters."""

    # How long an invitation stays pending, and how often the expiry job (one replica per run) closes overdue ones.
    invitation_ttl_hours: float = 168.0
    invitation_expiry_interval_seconds: float = 300.0
    # At most this many invitations per page per window (counted from the database; 0: no limit).
    invitation_rate_limit: int = 30
    invitation_rate_window_seconds: float = 3600.0
    # Where the invitation mail's link points; `invitation` and `token` are added as query parameters.
    invitation_accept_url: str = "http://localhost:3000/invitations/accept"
    # How long other services may cache a CheckPageAccess answer (its `cache_ttl_seconds`).
    page_access_cache_ttl_seconds: int = 10

"""The investor service's settings: the shared ones plus invitations, the page-access answer and billing."""

from __future__ import annotations

from devinsider_common.settings import ServiceSettings


class InvestorSettings(ServiceSettings):
    service_name: str = "investor"
    grpc_port: int = 50053
    # How long an invitation stays pending before the expiry job closes it.
    invitation_ttl_hours: int = 168
    # How often the expiry job runs (once across replicas per run, under a lock).
    invitation_expiry_interval_seconds: float = 60.0
    # At most this many invitations per page per window (counted from the database; 0: no limit).
    invitation_rate_limit: int = 30
    invitation_rate_window_seconds: float = 3600.0
    # Where the invitation mail's link points; `invitation` and `token` are added as query parameters.
    invitation_accept_url: str = "http://localhost:3000/investors/invitations/accept"
    # How long other services may cache a CheckPageAccess answer.
    page_access_cache_ttl_seconds: int = 10
    # gRPC target of the billing service (HasUnlocked); empty: nobody has unlocked anything.
    billing_target: str = ""
    # How long an "unlocked" answer is reused (a "not unlocked" one never is: a fresh unlock shows at once).
    unlock_cache_ttl_seconds: float = 30.0

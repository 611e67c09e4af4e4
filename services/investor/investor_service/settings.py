"""The investor service's settings: the shared ones plus invitations and the page-access answer."""

from __future__ import annotations

from devinsider_common.settings import ServiceSettings


class InvestorSettings(ServiceSettings):
    service_name: str = "investor"
    grpc_port: int = 50053
    # How long an invitation stays pending before the expiry job closes it.
    invitation_ttl_hours: int = 168
    # How often the expiry job runs (once across replicas per run, under a lock).
    invitation_expiry_interval_seconds: float = 60.0
    # Where the invitation mail's link points; `invitation` and `token` are added as query parameters.
    invitation_accept_url: str = "http://localhost:3000/investors/invitations/accept"
    # How long other services may cache a CheckPageAccess answer.
    page_access_cache_ttl_seconds: int = 10

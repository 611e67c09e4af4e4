"""The investor service's settings: the page services' ones plus billing."""

from __future__ import annotations

from devinsider_common.pages.settings import PageServiceSettings


class InvestorSettings(PageServiceSettings):
    service_name: str = "investor"
    grpc_port: int = 50053
    invitation_expiry_interval_seconds: float = 60.0
    invitation_accept_url: str = "http://localhost:3000/investors/invitations/accept"
    # gRPC target of the billing service (HasUnlocked); empty: nobody has unlocked anything.
    billing_target: str = ""
    # How long an "unlocked" answer is reused (a "not unlocked" one never is: a fresh unlock shows at once).
    unlock_cache_ttl_seconds: float = 30.0

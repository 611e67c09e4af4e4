"""The company service's settings: the shared ones plus invitations, logos and its neighbours."""

from __future__ import annotations

from pathlib import Path

from devinsider_common.settings import VAR_DIR, ServiceSettings


class CompanySettings(ServiceSettings):
    service_name: str = "company"
    grpc_port: int = 50052
    # How long an invitation stays pending, and how often the expiry job looks for overdue ones.
    invitation_ttl_hours: float = 168.0
    invitation_expiry_interval_seconds: float = 300.0
    # At most this many invitations per page per window (counted from the database; 0: no limit).
    invitation_rate_limit: int = 30
    invitation_rate_window_seconds: float = 3600.0
    # Links in mails (the invitation's accept URL) point at the web app.
    web_base_url: str = "http://localhost:3000"
    # Public base of the HTTP API, prefixed to `logo_url` (empty: a path relative to the gateway).
    public_api_base_url: str = ""
    # Logos: largest accepted upload, and where the local-disk storage adapter keeps them.
    logo_max_bytes: int = 2 * 1024 * 1024
    upload_dir: Path = VAR_DIR / "uploads" / "company"
    # How long other services may cache a CheckPageAccess answer.
    page_access_cache_ttl_seconds: int = 10
    # gRPC target of the billing service (HasUnlocked); empty: nobody has unlocked anything.
    billing_target: str = ""
    # How long an "unlocked" answer is reused (a "not unlocked" one never is: a fresh unlock shows at once).
    unlock_cache_ttl_seconds: float = 30.0

"""The program service's settings: the shared ones plus invitations, jobs and the company service."""

from __future__ import annotations

from devinsider_common.settings import ServiceSettings


class ProgramSettings(ServiceSettings):
    service_name: str = "program"
    grpc_port: int = 50054
    # How long an invitation stays pending before the expiry job closes it.
    invitation_ttl_hours: float = 168.0
    # How often the invitation-expiry job runs (once across replicas, under a lock).
    invitation_expiry_interval_seconds: float = 300.0
    # At most this many invitations per page per window (counted from the database; 0: no limit).
    invitation_rate_limit: int = 30
    invitation_rate_window_seconds: float = 3600.0
    # Where the invitation mail's link points; the invitation name and one-time token are appended.
    invitation_accept_url: str = "http://localhost:8080/invitations/accept"
    # The company service (CheckPageAccess of the applying company, display names).
    company_target: str = "127.0.0.1:50052"
    # How long an answer of the company service's CheckPageAccess is reused (shared cache).
    company_access_cache_ttl_seconds: float = 10.0
    # Deadline of calls to other services when the incoming call has none.
    client_timeout_seconds: float = 5.0

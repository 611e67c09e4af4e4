"""The program service's settings: the page services' ones plus the company service."""

from __future__ import annotations

from devinsider_common.pages.settings import PageServiceSettings


class ProgramSettings(PageServiceSettings):
    service_name: str = "program"
    grpc_port: int = 50054
    invitation_accept_url: str = "http://localhost:8080/invitations/accept"
    # The company service (CheckPageAccess of the applying company, display names).
    company_target: str = "127.0.0.1:50052"
    # The investor service (CheckPageAccess of the page an investor browses the directory as: `viewer_page`).
    investor_target: str = "127.0.0.1:50053"
    # How long an answer of the company service's CheckPageAccess is reused (shared cache).
    company_access_cache_ttl_seconds: float = 10.0
    # Deadline of calls to other services when the incoming call has none.
    client_timeout_seconds: float = 5.0

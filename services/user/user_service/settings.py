"""The user service's settings: the shared ones plus the Keycloak webhook's and its reconciliation's."""

from __future__ import annotations

from typing import Self
from urllib.parse import urlparse

from pydantic import Field, model_validator

from devinsider_common.settings import Secret, ServiceSettings


class UserSettings(ServiceSettings):
    service_name: str = "user"
    grpc_port: int = 50051
    # The user service applies its own access rule: it asks no other service.
    user_target: str = ""
    # Shared secret of the Keycloak events extension (HMAC-SHA256 of the raw body).
    keycloak_webhook_secret: Secret = "dev-keycloak-webhook-secret"  # noqa: S105 - dev default, refused in production
    # Events older (or further in the future) than this change nothing: Keycloak retries for minutes.
    keycloak_webhook_max_age_seconds: int = 900
    # How long the auth layer may reuse an access answer: the bound on blacklist enforcement.
    access_cache_ttl_seconds: float = 5.0
    # At most this many support requests per user per window (counted from the database; 0: no limit).
    support_request_rate_limit: int = 5
    support_request_rate_window_seconds: float = 3600.0
    # Reconciliation with Keycloak's admin API (`{url}/admin/realms/{realm}/users`), with the service's
    # own client credentials (AUTH_TOKEN_URL, AUTH_CLIENT_ID, AUTH_CLIENT_SECRET). Empty URL: off.
    keycloak_admin_url: str = ""
    keycloak_realm: str = "devinsider"
    keycloak_reconcile_interval_seconds: float = Field(default=3600.0, gt=0)
    keycloak_reconcile_page_size: int = Field(default=100, ge=1, le=1000)
    # A run that finds more users gone from Keycloak than this deletes none of them (0: never deletes).
    keycloak_reconcile_max_deletions: int = Field(default=50, ge=0)
    keycloak_admin_timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _reconciliation_needs_credentials(self) -> Self:
        if not self.keycloak_admin_url:
            return self
        if urlparse(self.keycloak_admin_url).scheme not in {"http", "https"}:
            raise ValueError(f"KEYCLOAK_ADMIN_URL must be http(s): {self.keycloak_admin_url!r}")
        if not (self.auth.token_url and self.auth.client_id and self.auth.client_secret):
            raise ValueError(
                "KEYCLOAK_ADMIN_URL needs AUTH_TOKEN_URL, AUTH_CLIENT_ID and AUTH_CLIENT_SECRET "
                "(a client whose service account may view the realm's users)"
            )
        return self

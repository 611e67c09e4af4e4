"""The user service's settings: the shared ones plus the Keycloak webhook's."""

from __future__ import annotations

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

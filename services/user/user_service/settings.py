"""The user service's settings: the shared ones plus the Keycloak webhook's."""

from __future__ import annotations

from devinsider_common.settings import ServiceSettings


class UserSettings(ServiceSettings):
    service_name: str = "user"
    grpc_port: int = 50051
    # Shared secret of the Keycloak events extension (HMAC-SHA256 of the raw body).
    keycloak_webhook_secret: str = "dev-keycloak-webhook-secret"  # noqa: S105 - dev default, set in production
    # Events older (or further in the future) than this change nothing: Keycloak retries for minutes.
    keycloak_webhook_max_age_seconds: int = 900
    # How long the auth layer may reuse an access answer: the bound on blacklist enforcement.
    access_cache_ttl_seconds: float = 5.0

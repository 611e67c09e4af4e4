"""The user service's use cases, as wired by the bootstrap and called by the entrypoints."""

from __future__ import annotations

from dataclasses import dataclass

from user_service.service_layer.blacklist import BlacklistUseCases
from user_service.service_layer.keycloak_events import KeycloakWebhook
from user_service.service_layer.reconciliation import KeycloakReconciliation
from user_service.service_layer.requests import RequestUseCases
from user_service.service_layer.users import UserUseCases


@dataclass(frozen=True)
class UserApp:
    users: UserUseCases
    requests: RequestUseCases
    blacklist: BlacklistUseCases
    keycloak: KeycloakWebhook
    # None when no Keycloak admin API is configured (KEYCLOAK_ADMIN_URL empty).
    reconciliation: KeycloakReconciliation | None = None

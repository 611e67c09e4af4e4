"""ServiceTokenProvider: this service's own identity for calls that are not on a user's behalf.

The company service's CheckPageAccess is service-only, so the program service cannot forward its
caller's token there; it presents a token of its own (local runs: a short-lived dev-issuer token
with the `service` role from the same dev key directory; production: Keycloak's client-credentials
grant). The implementation is libs/common's `devinsider_common.auth.service_identity`; the port
stays here so use cases and tests depend on a callable, not on how the token is obtained.
"""

from __future__ import annotations

from typing import Protocol

from devinsider_common.auth.service_identity import service_token_provider as shared_provider
from devinsider_common.settings import ServiceSettings


class ServiceTokenProvider(Protocol):
    """Returns a bearer token (without `Bearer `) identifying this service."""

    def __call__(self) -> str: ...


def service_token_provider(settings: ServiceSettings) -> ServiceTokenProvider:
    return shared_provider(settings.auth, settings.service_name)

"""ServiceTokenProvider: this service's own identity for calls that are not on a user's behalf.

The company service's CheckPageAccess is service-only, so the program service cannot forward its
caller's token there; it presents a token of its own. Local runs (no JWKS URL: the dev issuer is
trusted) sign a short-lived token with the `service` realm role from the same dev key directory,
cached until shortly before it expires. In production the token must come from Keycloak's
client-credentials grant; until that adapter exists here a call fails UNAVAILABLE with a clear
message instead of sending a user's token where a service is expected.

Candidate for libs/common (devinsider_common.auth): the port, the dev provider and the factory.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Protocol

from devinsider_common import errors
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.settings import ServiceSettings

REFRESH_MARGIN_SECONDS = 30.0


class ServiceTokenProvider(Protocol):
    """Returns a bearer token (without `Bearer `) identifying this service."""

    def __call__(self) -> str: ...


class DevServiceTokens:
    """Tokens of subject `service-<name>` with the `service` role, signed by the local dev issuer."""

    def __init__(self, key_dir: Path, issuer: str, service_name: str, ttl_seconds: int = 300) -> None:
        self._key_dir = key_dir
        self._issuer = issuer
        self._subject = f"service-{service_name}"
        self._ttl = ttl_seconds
        self._token = ""
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if time.monotonic() >= self._renew_at:
                self._token = issue_token(
                    self._key_dir, self._issuer, self._subject, roles=["service"], ttl_seconds=self._ttl
                )
                self._renew_at = time.monotonic() + max(1.0, self._ttl - REFRESH_MARGIN_SECONDS)
            return self._token


class MissingServiceIdentity:
    def __call__(self) -> str:
        raise errors.Unavailable(
            "no service identity is configured for calls to other services", reason="SERVICE_IDENTITY_MISSING"
        )


def service_token_provider(settings: ServiceSettings) -> ServiceTokenProvider:
    if not settings.auth.jwks_url:
        return DevServiceTokens(settings.auth.dev_key_dir, settings.auth.issuer, settings.service_name)
    return MissingServiceIdentity()

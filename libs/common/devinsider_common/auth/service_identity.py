"""A service's own identity for calls that are not on a user's behalf (service-only RPCs, jobs).

Production: Keycloak's client-credentials grant (a confidential client with the `service` realm
role). Local runs: a short-lived token from the dev issuer with the `service` role. Both cache the
token until shortly before it expires.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from devinsider_common import errors
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.settings import AuthSettings

REFRESH_MARGIN_SECONDS = 30.0


class _CachedToken:
    def __init__(self, fetch: Callable[[], tuple[str, float]]) -> None:
        self._fetch = fetch
        self._token = ""
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if time.monotonic() >= self._expires_at - REFRESH_MARGIN_SECONDS:
                self._token, lifetime = self._fetch()
                self._expires_at = time.monotonic() + lifetime
            return self._token


def dev_service_tokens(key_dir: Path, issuer: str, service: str, ttl_seconds: int = 300) -> Callable[[], str]:
    """Tokens for `service` signed by the local dev issuer (accepted only where it is configured)."""

    def fetch() -> tuple[str, float]:
        token = issue_token(key_dir, issuer, f"service-{service}", roles=["service"], ttl_seconds=ttl_seconds)
        return token, float(ttl_seconds)

    return _CachedToken(fetch)


def client_credentials_tokens(
    token_url: str, client_id: str, client_secret: str, timeout_seconds: float = 5.0
) -> Callable[[], str]:
    """Tokens from an OAuth2 token endpoint (Keycloak: `…/protocol/openid-connect/token`)."""
    if urllib.parse.urlparse(token_url).scheme not in {"http", "https"}:
        raise ValueError(f"token URL must be http(s): {token_url!r}")
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    ).encode()

    def fetch() -> tuple[str, float]:
        request = urllib.request.Request(token_url, data=form, method="POST")  # noqa: S310 - scheme checked
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310
                answer = json.loads(response.read())
        except (OSError, ValueError) as error:
            raise errors.Unavailable(f"cannot obtain a service token: {error}") from error
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            raise errors.Unavailable("the token endpoint answered without an access_token")
        return answer["access_token"], float(answer.get("expires_in") or 60)

    return _CachedToken(fetch)


def service_token_provider(auth: AuthSettings, service: str) -> Callable[[], str]:
    """Client credentials against Keycloak in production, dev tokens in local runs."""
    if auth.jwks_url:
        if not (auth.token_url and auth.client_id and auth.client_secret):
            raise ValueError("AUTH_TOKEN_URL, AUTH_CLIENT_ID and AUTH_CLIENT_SECRET are required with AUTH_JWKS_URL")
        return client_credentials_tokens(auth.token_url, auth.client_id, auth.client_secret, auth.jwks_timeout_seconds)
    return dev_service_tokens(auth.dev_key_dir, auth.issuer, service)

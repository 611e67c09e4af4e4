"""Signing keys by `kid`, loaded from a JWKS document (Keycloak's endpoint or the dev key dir).

PyJWKClient refetches the JWKS for every unknown `kid`, so a flood of forged kids would hammer
Keycloak. `KeyCache` refetches at most once per cooldown window (a negative cache for every
kid still unknown after that fetch), and a failed fetch keeps the keys already known.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from jwt import PyJWK
from jwt.exceptions import PyJWKError

log = structlog.get_logger("devinsider.auth.jwks")

JwksLoader = Callable[[], Mapping[str, Any]]


class UnknownKeyError(LookupError):
    """No usable RS256 key has this `kid`, and a refetch is not allowed (or did not help)."""


def http_loader(url: str, timeout_seconds: float) -> JwksLoader:
    """Fetches the JWKS document over HTTP(S) with a short timeout."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"the JWKS URL must be http(s): {url!r}")

    def load() -> Mapping[str, Any]:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310
            document: Mapping[str, Any] = json.loads(response.read())
        return document

    return load


def signing_keys(document: Mapping[str, Any]) -> dict[str, PyJWK]:
    """The RS256 signature keys of a JWKS; Keycloak also publishes `enc` keys, which are skipped."""
    keys: dict[str, PyJWK] = {}
    for entry in document.get("keys", []):
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
            continue
        if entry.get("alg", "RS256") != "RS256" or not isinstance(entry.get("kid"), str):
            continue
        try:
            keys[entry["kid"]] = PyJWK(entry, algorithm="RS256")
        except PyJWKError:
            log.warning("jwks.key_skipped", kid=entry.get("kid"))
    return keys


class KeyCache:
    """Keys by kid; unknown kids refetch at most once per `cooldown_seconds`."""

    def __init__(
        self, loader: JwksLoader, cooldown_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._loader = loader
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._last_attempt: float | None = None
        self._lock = threading.Lock()

    def prewarm(self) -> bool:
        """Fetch at start so the first request does not pay for it; a failure is logged, not raised."""
        with self._lock:
            return self._refresh()

    def get(self, kid: str) -> PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:  # one fetch at a time; the others then see its result
            key = self._keys.get(kid)
            if key is None and self._may_refetch():
                self._refresh()
                key = self._keys.get(kid)
        if key is None:
            raise UnknownKeyError(kid)
        return key

    def _may_refetch(self) -> bool:
        return self._last_attempt is None or self._clock() - self._last_attempt >= self._cooldown

    def _refresh(self) -> bool:
        self._last_attempt = self._clock()
        try:
            keys = signing_keys(self._loader())
        except Exception as error:  # network, HTTP status, JSON: keep serving the known keys
            log.warning("jwks.fetch_failed", error=str(error), known_kids=sorted(self._keys))
            return False
        # Replace, not merge: a key Keycloak stopped publishing must stop verifying.
        self._keys = keys
        log.info("jwks.fetched", kids=sorted(keys))
        return True

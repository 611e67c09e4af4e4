"""Verifies Keycloak (or dev) access tokens: RS256 only, exact issuer, audience or azp, typ Bearer.

Every failure raises `errors.Unauthenticated` with a precise `reason`, so clients and logs can
tell an expired token from a forged one. The header is checked before any key lookup, so
`alg: none` or HS256 tokens never cause a JWKS fetch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import structlog
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    MissingRequiredClaimError,
    PyJWTError,
)

from devinsider_common.auth import dev_issuer
from devinsider_common.auth.jwks import JwksLoader, KeyCache, UnknownKeyError, http_loader
from devinsider_common.auth.principal import Principal
from devinsider_common.errors import Unauthenticated
from devinsider_common.settings import AuthSettings

log = structlog.get_logger("devinsider.auth")

ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub"]

# Most specific first: InvalidSignatureError is a DecodeError, everything is an InvalidTokenError.
_REASONS: list[tuple[type[PyJWTError], str, str]] = [
    (ExpiredSignatureError, "TOKEN_EXPIRED", "the token has expired"),
    (ImmatureSignatureError, "TOKEN_NOT_YET_VALID", "the token is not valid yet (nbf/iat in the future)"),
    (InvalidIssuerError, "TOKEN_BAD_ISSUER", "the token was issued by another issuer"),
    (InvalidSignatureError, "TOKEN_BAD_SIGNATURE", "the token signature does not verify"),
    (InvalidAlgorithmError, "TOKEN_BAD_ALGORITHM", "the token algorithm is not allowed"),
    (MissingRequiredClaimError, "TOKEN_INVALID", "the token lacks a required claim"),
]


def _fail(reason: str, message: str) -> Unauthenticated:
    return Unauthenticated(message, reason=reason)


def _dev_loader(settings: AuthSettings) -> JwksLoader:
    # Dev mode: the key pair the dev issuer writes (created here on first use, so the service can
    # start before any token was printed).
    return lambda: dev_issuer.ensure_dev_keys(settings.dev_key_dir).jwks


class JwtVerifier:
    """TokenVerifier for bearer access tokens; keys from the JWKS URL, else the dev key dir."""

    def __init__(self, settings: AuthSettings, *, clock: Callable[[], float] | None = None) -> None:
        self._settings = settings
        self._audiences = frozenset(settings.audiences)
        loader = http_loader(settings.jwks_url, settings.jwks_timeout_seconds) if settings.jwks_url else None
        self._keys = KeyCache(
            loader or _dev_loader(settings), settings.jwks_refetch_cooldown_seconds, clock or time.monotonic
        )

    @property
    def dev_mode(self) -> bool:
        return not self._settings.jwks_url

    def prewarm(self) -> bool:
        """Fetch the keys at start; failure is logged (the first request retries), never fatal."""
        ok = self._keys.prewarm()
        log.info("auth.prewarm", ok=ok, dev_mode=self.dev_mode, issuer=self._settings.issuer)
        return ok

    def verify(self, token: str) -> Principal:
        claims = self._decode(token)
        self._check_type(claims)
        self._check_audience(claims)
        return _principal(claims)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError as error:
            raise _fail("TOKEN_INVALID", f"the token is not a well-formed JWT: {error}") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise _fail("TOKEN_BAD_ALGORITHM", f"token algorithm {alg!r} is not allowed (only RS256)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _fail("TOKEN_UNKNOWN_KEY", "the token header has no kid")
        try:
            key = self._keys.get(kid)
        except UnknownKeyError:
            raise _fail("TOKEN_UNKNOWN_KEY", f"no signing key with kid {kid[:64]!r}") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": REQUIRED_CLAIMS, "verify_aud": False},  # audience checked below (azp)
            )
        except InvalidTokenError as error:
            for error_type, reason, message in _REASONS:
                if isinstance(error, error_type):
                    raise _fail(reason, f"{message}: {error}") from None
            raise _fail("TOKEN_INVALID", f"the token is invalid: {error}") from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise _fail("TOKEN_INVALID", "the token has an empty subject")
        return claims

    @staticmethod
    def _check_type(claims: dict[str, Any]) -> None:
        # Keycloak marks ID tokens `ID` and refresh tokens `Refresh`; only access tokens are credentials.
        typ = claims.get("typ")
        if typ is not None and typ != "Bearer":
            raise _fail("TOKEN_BAD_TYPE", f"a {typ!r} token is not an access token")

    def _check_audience(self, claims: dict[str, Any]) -> None:
        aud = claims.get("aud", [])
        listed = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        audiences = {a for a in listed if isinstance(a, str)}
        if audiences & self._audiences or claims.get("azp") in self._audiences:
            return
        raise _fail("TOKEN_BAD_AUDIENCE", f"the token is not meant for us (aud={aud!r}, azp={claims.get('azp')!r})")


def _principal(claims: dict[str, Any]) -> Principal:
    realm = claims.get("realm_access")
    raw_roles = realm.get("roles", []) if isinstance(realm, dict) else []
    roles = frozenset(r for r in raw_roles if isinstance(r, str)) if isinstance(raw_roles, list) else frozenset()

    def text(name: str) -> str:
        value = claims.get(name)
        return value if isinstance(value, str) else ""

    return Principal(
        subject=claims["sub"],
        roles=roles,
        email=text("email"),
        given_name=text("given_name"),
        family_name=text("family_name"),
        email_verified=claims.get("email_verified") is True,
        claims=claims,
    )

"""Verifies Keycloak (or dev) access tokens: RS256 only, exact issuer, audience or azp, typ Bearer.

Every failure raises `errors.Unauthenticated` with a precise `reason`, so clients and logs can
tell an expired token from a forged one. The header is checked before any key lookup, so
`alg: none` or HS256 tokens never cause a JWKS fetch.

Tokens that verified are remembered (`VerifiedTokenCache`: a bounded LRU keyed by the token string)
until the earlier of their `exp` and `cache_ttl_seconds` from now, so a client repeating its bearer
token pays the RSA signature check once per TTL instead of on every call. Failures are never cached,
a cached token past its `exp` is verified again (and refused once beyond the leeway), and a hit counts
only while the key that verified it is still the key cache's key for its kid (a rotation that retired
the key ends its tokens at once).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jwt
import structlog
from jwt import PyJWK
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


# A key removed from the JWKS (revoked) stops accepting the tokens it signed within this bound.
DEFAULT_CACHE_TTL_SECONDS = 60.0
DEFAULT_CACHE_SIZE = 4096


class VerifiedTokenCache:
    """Bounded LRU of verified tokens: token string -> (principal, kid, verifying key, expiry on the wall clock).

    An entry expires at min(token exp, insertion time + ttl); an expired entry is a miss (and dropped).
    Thread safe: the gRPC server calls `verify` from its worker threads.
    """

    def __init__(self, size: int, ttl_seconds: float, wall_clock: Callable[[], float] = time.time) -> None:
        self._size = size
        self._ttl = ttl_seconds
        self._clock = wall_clock
        self._entries: OrderedDict[str, tuple[Principal, str, object, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._size > 0 and self._ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> tuple[Principal, str, object] | None:
        """(principal, kid, the key that verified it), or None when absent or expired."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            principal, kid, key, expires = entry
            if self._clock() >= expires:
                del self._entries[token]
                return None
            self._entries.move_to_end(token)
            return principal, kid, key

    def discard(self, token: str) -> None:
        with self._lock:
            self._entries.pop(token, None)

    def put(self, token: str, principal: Principal, kid: str = "", key: object = None) -> None:
        if not self.enabled:
            return
        exp = principal.claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            return  # cannot bound the entry by the token's own lifetime: never cached
        expires = min(float(exp), self._clock() + self._ttl)
        with self._lock:
            self._entries[token] = (principal, kid, key, expires)
            self._entries.move_to_end(token)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


class JwtVerifier:
    """TokenVerifier for bearer access tokens; keys from the JWKS URL, else the dev key dir."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        clock: Callable[[], float] | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        cache_ttl_seconds: float = DEFAULT_CACHE_TTL_SECONDS,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._audiences = frozenset(settings.audiences)
        loader = http_loader(settings.jwks_url, settings.jwks_timeout_seconds) if settings.jwks_url else None
        self._keys = KeyCache(
            loader or _dev_loader(settings), settings.jwks_refetch_cooldown_seconds, clock or time.monotonic
        )
        self._verified = VerifiedTokenCache(cache_size, cache_ttl_seconds, wall_clock)

    @property
    def dev_mode(self) -> bool:
        return not self._settings.jwks_url

    def prewarm(self) -> bool:
        """Fetch the keys at start; failure is logged (the first request retries), never fatal."""
        ok = self._keys.prewarm()
        log.info("auth.prewarm", ok=ok, dev_mode=self.dev_mode, issuer=self._settings.issuer)
        return ok

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            principal, kid, key = cached
            if self._still_current(kid, key):
                return principal
            self._verified.discard(token)
        claims, kid, key = self._decode(token)
        self._check_type(claims)
        self._check_audience(claims)
        principal = _principal(claims)
        self._verified.put(token, principal, kid, key)
        return principal

    def _still_current(self, kid: str, key: object) -> bool:
        """The key cache still holds the very key that verified the token (no refetch replaced it)."""
        try:
            return self._keys.get(kid) is key
        except UnknownKeyError:
            return False

    def _decode(self, token: str) -> tuple[dict[str, Any], str, PyJWK]:
        """The verified claims, the header's kid and the key that verified them."""
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
        return claims, kid, key

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

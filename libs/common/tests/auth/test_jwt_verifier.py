"""JwtVerifier against a real JWKS HTTP server on 127.0.0.1, with real RSA keys and forged tokens.

Every attack in the design's list is a test: expired, not yet valid, wrong issuer, wrong audience,
alg none, HS256 signed with the public key, unknown kid, ID/refresh tokens, missing claims; and
the JWKS cache: rotation, refetch cooldown under a flood of bogus kids, the endpoint going down.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.errors import Unauthenticated
from devinsider_common.settings import AuthSettings

ISSUER = "https://sso.example.test/realms/devinsider"


@dataclass
class Signer:
    """An RSA key with a kid; signs arbitrary claims so tests can build every bad token."""

    kid: str
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    @property
    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": kid or self.kid})


def access_claims(**overrides: Any) -> dict[str, Any]:
    """A valid Keycloak-shaped access token body; `None` values drop the claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "3f0c1c1e-user",
        "aud": "account",
        "azp": "devinsider",
        "typ": "Bearer",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "realm_access": {"roles": ["isv", "offline_access"]},
        "email": "ada@example.test",
        "email_verified": True,
        "given_name": "Ada",
        "family_name": "Lovelace",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


@dataclass
class JwksServer:
    """Serves `keys` as a JWKS document and counts the requests it answers."""

    keys: list[dict[str, Any]]
    hits: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/realms/devinsider/protocol/openid-connect/certs"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _start(state: JwksServer) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    state.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=state.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer(kid="key-1")


@pytest.fixture
def jwks_server(signer: Signer) -> Iterator[JwksServer]:
    state = JwksServer(keys=[signer.jwk])
    _start(state)
    yield state
    state.stop()


class FakeClock:
    """Monotonic time the test moves forward, to cross the refetch cooldown without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _settings(url: str, cooldown: float = 30.0) -> AuthSettings:
    return AuthSettings(issuer=ISSUER, jwks_url=url, audiences=["devinsider"], jwks_refetch_cooldown_seconds=cooldown)


@pytest.fixture
def verifier(jwks_server: JwksServer) -> JwtVerifier:
    return JwtVerifier(_settings(jwks_server.url))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _reason(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    assert caught.value.message  # a human-readable explanation always comes with the code
    return caught.value.reason


def test_good_token_gives_principal_with_realm_roles(verifier: JwtVerifier, signer: Signer) -> None:
    principal = verifier.verify(signer.sign(access_claims()))
    assert principal.subject == "3f0c1c1e-user"
    assert principal.roles == frozenset({"isv", "offline_access"})
    assert (principal.email, principal.given_name, principal.family_name) == ("ada@example.test", "Ada", "Lovelace")
    assert principal.email_verified is True
    assert principal.claims["azp"] == "devinsider"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "TOKEN_EXPIRED"),
        ({"nbf": int(time.time()) + 600}, "TOKEN_NOT_YET_VALID"),
        ({"iat": int(time.time()) + 600}, "TOKEN_NOT_YET_VALID"),
        ({"iss": "https://evil.example.test/realms/devinsider"}, "TOKEN_BAD_ISSUER"),
        ({"iss": ISSUER + "/"}, "TOKEN_BAD_ISSUER"),  # exact match, no normalisation
        ({"aud": "account", "azp": "other-client"}, "TOKEN_BAD_AUDIENCE"),
        ({"aud": None, "azp": None}, "TOKEN_BAD_AUDIENCE"),
        ({"typ": "ID"}, "TOKEN_BAD_TYPE"),
        ({"typ": "Refresh"}, "TOKEN_BAD_TYPE"),
        ({"sub": None}, "TOKEN_INVALID"),
        ({"sub": ""}, "TOKEN_INVALID"),
        ({"exp": None}, "TOKEN_INVALID"),
        ({"iat": None}, "TOKEN_INVALID"),
        ({"iss": None}, "TOKEN_INVALID"),
    ],
)
def test_bad_claims_are_rejected_with_a_precise_reason(
    verifier: JwtVerifier, signer: Signer, overrides: dict[str, Any], reason: str
) -> None:
    assert _reason(verifier, signer.sign(access_claims(**overrides))) == reason


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "account", "azp": "devinsider"},  # Keycloak's default: only `account` in aud
        {"aud": ["account", "devinsider"], "azp": "web-app"},
        {"aud": None, "azp": "devinsider"},
        {"typ": None},
        {"exp": -10},  # 10 s ago (relative: resolved when the test runs), within the 30 s leeway
    ],
)
def test_accepted_variants(verifier: JwtVerifier, signer: Signer, overrides: dict[str, Any]) -> None:
    # A time taken at collection would be stale by the time a long run reaches this test.
    if isinstance(overrides.get("exp"), int) and overrides["exp"] < 0:
        overrides = {**overrides, "exp": int(time.time()) + overrides["exp"]}
    assert verifier.verify(signer.sign(access_claims(**overrides))).subject == "3f0c1c1e-user"


def test_alg_none_is_rejected_before_any_key_lookup(
    verifier: JwtVerifier, signer: Signer, jwks_server: JwksServer
) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "any"}).encode())
    body = _b64(json.dumps(access_claims()).encode())
    assert _reason(verifier, f"{header}.{body}.") == "TOKEN_BAD_ALGORITHM"
    assert jwks_server.hits == 0


def test_hs256_signed_with_the_public_key_is_rejected(verifier: JwtVerifier, signer: Signer) -> None:
    public_pem = signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = ".".join(
        [
            _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": signer.kid}).encode()),
            _b64(json.dumps(access_claims()).encode()),
        ]
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert _reason(verifier, f"{signing_input}.{_b64(mac)}") == "TOKEN_BAD_ALGORITHM"


def test_signature_by_another_key_under_a_known_kid_is_rejected(verifier: JwtVerifier, signer: Signer) -> None:
    impostor = Signer(kid=signer.kid)
    assert _reason(verifier, impostor.sign(access_claims())) == "TOKEN_BAD_SIGNATURE"


def test_tampered_payload_is_rejected(verifier: JwtVerifier, signer: Signer) -> None:
    header, _, signature = signer.sign(access_claims()).split(".")
    forged = _b64(json.dumps(access_claims(realm_access={"roles": ["admin"]})).encode())
    assert _reason(verifier, f"{header}.{forged}.{signature}") == "TOKEN_BAD_SIGNATURE"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_garbage_is_rejected(verifier: JwtVerifier, token: str) -> None:
    assert _reason(verifier, token) == "TOKEN_INVALID"


def test_unknown_kid_is_rejected(verifier: JwtVerifier, signer: Signer) -> None:
    assert _reason(verifier, Signer(kid="nobody").sign(access_claims())) == "TOKEN_UNKNOWN_KEY"


def test_rotated_key_is_fetched_and_retired_key_stops_working(jwks_server: JwksServer, signer: Signer) -> None:
    clock = FakeClock()
    verifier = JwtVerifier(_settings(jwks_server.url), clock=clock)
    old_token = signer.sign(access_claims())
    assert verifier.verify(old_token).subject
    rotated = Signer(kid="key-2")
    jwks_server.keys = [rotated.jwk]  # Keycloak rotated: the old key is gone
    clock.now += 31  # past the cooldown of the first fetch
    assert verifier.verify(rotated.sign(access_claims())).subject
    assert jwks_server.hits == 2
    assert _reason(verifier, old_token) == "TOKEN_UNKNOWN_KEY"


def test_flood_of_bogus_kids_fetches_at_most_once_per_cooldown(jwks_server: JwksServer, signer: Signer) -> None:
    clock = FakeClock()
    verifier = JwtVerifier(_settings(jwks_server.url), clock=clock)
    for index in range(20):
        assert _reason(verifier, Signer(kid=f"bogus-{index}", key=signer.key).sign(access_claims())) == (
            "TOKEN_UNKNOWN_KEY"
        )
    assert jwks_server.hits == 1
    assert verifier.verify(signer.sign(access_claims())).subject  # the fetched key serves from the cache
    clock.now += 31
    _reason(verifier, Signer(kid="bogus-late", key=signer.key).sign(access_claims()))
    assert jwks_server.hits == 2


def test_known_key_keeps_working_when_the_jwks_endpoint_is_down(jwks_server: JwksServer, signer: Signer) -> None:
    clock = FakeClock()
    verifier = JwtVerifier(_settings(jwks_server.url), clock=clock)
    assert verifier.prewarm() is True
    jwks_server.stop()
    clock.now += 31
    # An unknown kid now triggers a fetch that fails; the cached keys must survive it.
    assert _reason(verifier, Signer(kid="new").sign(access_claims())) == "TOKEN_UNKNOWN_KEY"
    assert verifier.verify(signer.sign(access_claims())).subject == "3f0c1c1e-user"


def test_prewarm_failure_is_not_fatal_and_the_first_request_retries(signer: Signer) -> None:
    state = JwksServer(keys=[signer.jwk])
    _start(state)
    url = state.url
    state.stop()
    verifier = JwtVerifier(_settings(url, cooldown=0.0))
    assert verifier.prewarm() is False
    assert _reason(verifier, signer.sign(access_claims())) == "TOKEN_UNKNOWN_KEY"

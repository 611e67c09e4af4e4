"""JWT attacks and access policies, as the user service's interceptor meets them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import grpc
import jwt
from cryptography.hazmat.primitives import serialization

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_common.testing.failures import Failure, failure
from user_service.settings import UserSettings

from ..conftest import ISSUER, bearer


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": "kc-mallory",
        "aud": "devinsider",
        "azp": "devinsider",
        "typ": "Bearer",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "realm_access": {"roles": ["isv"]},
    }
    claims.update(overrides)
    return claims


def _signed(settings: UserSettings, claims: dict[str, object], kid: str | None = None) -> str:
    keys = ensure_dev_keys(settings.auth.dev_key_dir)
    return jwt.encode(claims, keys.private_key, algorithm="RS256", headers={"kid": kid or keys.kid})


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _hs256_with_public_key(settings: UserSettings) -> str:
    keys = ensure_dev_keys(settings.auth.dev_key_dir)
    public_pem = keys.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": keys.kid}
    signing_input = ".".join(
        base64.urlsafe_b64encode(json.dumps(v).encode()).decode().rstrip("=") for v in (header, _claims())
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


BAD_TOKENS: dict[str, Callable[[UserSettings], str]] = {
    "TOKEN_EXPIRED": lambda s: _signed(s, _claims(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)),
    "TOKEN_NOT_YET_VALID": lambda s: _signed(s, _claims(nbf=int(time.time()) + 3600)),
    "TOKEN_BAD_ISSUER": lambda s: _signed(s, _claims(iss="https://evil.example/realms/x")),
    "TOKEN_BAD_AUDIENCE": lambda s: _signed(s, _claims(aud="other-client", azp="other-client")),
    "TOKEN_BAD_ALGORITHM": lambda s: _unsigned(_claims()),
    "TOKEN_UNKNOWN_KEY": lambda s: _signed(s, _claims(), kid="unknown-kid"),
    "TOKEN_BAD_TYPE": lambda s: _signed(s, _claims(typ="ID")),
    "TOKEN_INVALID": lambda s: _signed(s, {k: v for k, v in _claims().items() if k != "sub"}),
}


def test_bad_tokens_are_unauthenticated_with_their_reason(
    stub: user_pb2_grpc.UserServiceStub, settings: UserSettings
) -> None:
    """The service runs the JWT verifier (its rules: libs/common/tests/auth) on every call."""
    tokens = {reason: make(settings) for reason, make in BAD_TOKENS.items()}
    tokens["TOKEN_BAD_ALGORITHM (HS256 with the public key)"] = _hs256_with_public_key(settings)
    tokens["TOKEN_INVALID (not a JWT)"] = "not.a.jwt"
    for expected, token in tokens.items():
        refused = failure(lambda: stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token)))  # noqa: B023
        assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, expected.split(" ")[0]), expected


def test_good_tokens_pass_also_with_azp_in_the_allow_list_and_aud_only_account(
    stub: user_pb2_grpc.UserServiceStub, settings: UserSettings
) -> None:
    assert stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(_signed(settings, _claims()))).subject == "kc-mallory"
    token = _signed(settings, _claims(aud="account", azp="devinsider"))
    assert stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token)).subject == "kc-mallory"


def test_no_token_is_unauthenticated_and_a_malformed_header_too(stub: user_pb2_grpc.UserServiceStub) -> None:
    assert failure(lambda: stub.GetMe(user_pb2.GetMeRequest())) == Failure(
        grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING"
    )
    basic = (("authorization", "Basic Zm9vOmJhcg=="),)
    assert failure(lambda: stub.GetMe(user_pb2.GetMeRequest(), metadata=basic)) == Failure(
        grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MALFORMED"
    )

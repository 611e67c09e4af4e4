"""JWT attacks and access policies, as the user service's interceptor meets them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_common.grpc.status import error_info, from_rpc_error
from user_service.settings import UserSettings

from ..conftest import ISSUER, TokenFactory, bearer


def _reason(call: pytest.ExceptionInfo[grpc.RpcError]) -> str:
    status = from_rpc_error(call.value)
    info = error_info(status) if status else None
    return info.reason if info else ""


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


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda s: _signed(s, _claims(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)), "TOKEN_EXPIRED"),
        (lambda s: _signed(s, _claims(nbf=int(time.time()) + 3600)), "TOKEN_NOT_YET_VALID"),
        (lambda s: _signed(s, _claims(iss="https://evil.example/realms/x")), "TOKEN_BAD_ISSUER"),
        (lambda s: _signed(s, _claims(aud="other-client", azp="other-client")), "TOKEN_BAD_AUDIENCE"),
        (lambda s: _unsigned(_claims()), "TOKEN_BAD_ALGORITHM"),
        (_hs256_with_public_key, "TOKEN_BAD_ALGORITHM"),
        (lambda s: _signed(s, _claims(), kid="unknown-kid"), "TOKEN_UNKNOWN_KEY"),
        (lambda s: _signed(s, _claims(typ="ID")), "TOKEN_BAD_TYPE"),
        (lambda s: _signed(s, {k: v for k, v in _claims().items() if k != "sub"}), "TOKEN_INVALID"),
        (lambda s: "not.a.jwt", "TOKEN_INVALID"),
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "wrong-iss",
        "wrong-aud",
        "alg-none",
        "hs256-public-key",
        "unknown-kid",
        "id-token",
        "no-sub",
        "garbage",
    ],
)
def test_bad_tokens_are_unauthenticated(
    stub: user_pb2_grpc.UserServiceStub, settings: UserSettings, make_token: object, reason: str
) -> None:
    token = make_token(settings)  # type: ignore[operator]
    with pytest.raises(grpc.RpcError) as call:
        stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token))
    assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert _reason(call) == reason


def test_azp_in_the_allow_list_is_enough_when_aud_is_only_account(
    stub: user_pb2_grpc.UserServiceStub, settings: UserSettings
) -> None:
    token = _signed(settings, _claims(aud="account", azp="devinsider"))
    assert stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token)).subject == "kc-mallory"


def test_a_good_token_passes(stub: user_pb2_grpc.UserServiceStub, settings: UserSettings) -> None:
    assert stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(_signed(settings, _claims()))).subject == "kc-mallory"


def test_no_token_is_unauthenticated_and_a_malformed_header_too(stub: user_pb2_grpc.UserServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as call:
        stub.GetMe(user_pb2.GetMeRequest())
    assert (call.value.code(), _reason(call)) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
    with pytest.raises(grpc.RpcError) as call:
        stub.GetMe(user_pb2.GetMeRequest(), metadata=(("authorization", "Basic Zm9vOmJhcg=="),))
    assert (call.value.code(), _reason(call)) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MALFORMED")


def test_missing_role_is_permission_denied(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    with pytest.raises(grpc.RpcError) as call:
        stub.ListSupportRequests(user_pb2.ListSupportRequestsRequest(), metadata=bearer(token("kc-i", roles=("isv",))))
    assert (call.value.code(), _reason(call)) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_MISSING")


def test_service_only_rpc_refuses_admins(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    request = user_pb2.CheckUserAccessRequest(subject="kc-x")
    with pytest.raises(grpc.RpcError) as call:
        stub.CheckUserAccess(request, metadata=bearer(token("kc-adm", roles=("admin",))))
    assert (call.value.code(), _reason(call)) == (grpc.StatusCode.PERMISSION_DENIED, "SERVICE_ONLY")
    allowed = stub.CheckUserAccess(request, metadata=bearer(token("svc-matching", roles=("service",))))
    assert allowed.allowed is True

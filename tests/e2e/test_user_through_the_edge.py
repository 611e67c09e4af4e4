"""REST/JSON through Envoy to the real user service: tokens, profile, Keycloak webhook, errors."""

from __future__ import annotations

import json
import time
import uuid

from devinsider_common.webhooks import sign
from devinsider_gateway.testing.http import request

from .conftest import WEBHOOK_SECRET, Stack


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_get_me_creates_the_user_from_the_token(stack: Stack) -> None:
    token = stack.token("e2e-alice", given_name="Alice", family_name="Martin")
    response = request("GET", stack.url("/v1/users/me"), headers=_bearer(token))
    assert response.status == 200, response.body
    me = response.json()
    assert (me["subject"], me["email"], me["givenName"], me["state"]) == (
        "e2e-alice",
        "e2e-alice@example.com",
        "Alice",
        "USER_STATE_ACTIVE",
    )
    assert me["name"].startswith("users/") and me["createTime"].endswith("Z")


def test_update_me_with_a_field_mask_in_the_query(stack: Stack) -> None:
    token = stack.token("e2e-bob")
    body = {"jobTitle": "CTO", "biography": "ignored: not in the mask"}
    response = request("PATCH", stack.url("/v1/users/me?updateMask=jobTitle"), body, _bearer(token))
    assert response.status == 200, response.body
    assert response.json()["jobTitle"] == "CTO" and "biography" not in response.json()
    again = request("GET", stack.url("/v1/users/me"), headers=_bearer(token)).json()
    assert again["jobTitle"] == "CTO"


def _keycloak_register(subject: str) -> bytes:
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "time": int(time.time() * 1000),
            "type": "access.REGISTER",
            "realmId": "devinsider",
            "authDetails": {"realmId": "devinsider", "clientId": "web", "userId": subject},
            "details": {"email": f"{subject}@acme.io", "first_name": "Grace", "last_name": "Hopper"},
        },
        separators=(",", ":"),
    ).encode()


def test_keycloak_webhook_reaches_the_service_with_its_raw_body_and_signature(stack: Stack) -> None:
    body = _keycloak_register("kc-grace")
    headers = {"content-type": "application/json", "x-keycloak-signature": sign(body, WEBHOOK_SECRET)}
    response = request("POST", stack.url("/v1/webhooks/keycloak"), body, headers)  # public: no token
    assert response.status == 200, response.body
    admin = _bearer(stack.token("e2e-admin", roles=("admin",)))
    users = request("GET", stack.url("/v1/users?emailSuffix=@acme.io"), headers=admin).json()["users"]
    assert [(u["subject"], u["givenName"]) for u in users] == [("kc-grace", "Grace")]


def test_webhook_with_a_bad_signature_is_401_from_the_service(stack: Stack) -> None:
    body = _keycloak_register("kc-eve")
    headers = {"content-type": "application/json", "x-keycloak-signature": sign(body, "wrong-secret")}
    response = request("POST", stack.url("/v1/webhooks/keycloak"), body, headers)
    assert response.status == 401
    status = response.json()
    assert status["code"] == 16 and status["details"][0]["reason"] == "SIGNATURE_MISMATCH"


def test_missing_token_is_401_at_the_edge(stack: Stack) -> None:
    response = request("GET", stack.url("/v1/users/me"))
    assert response.status == 401 and response.json()["code"] == 16


def test_wrong_role_is_403_with_error_info(stack: Stack) -> None:
    response = request("GET", stack.url("/v1/users"), headers=_bearer(stack.token("e2e-carol")))
    assert response.status == 403
    status = response.json()
    assert status["code"] == 7 and status["details"][0]["@type"].endswith("google.rpc.ErrorInfo")


def test_bad_input_is_400_with_field_violations(stack: Stack) -> None:
    token = stack.token("e2e-dave")
    url = stack.url("/v1/users/me?updateMask=linkedinUrl")
    response = request("PATCH", url, {"linkedinUrl": "nope"}, _bearer(token))
    assert response.status == 400
    details = response.json()["details"]
    violations = [v for d in details if d["@type"].endswith("BadRequest") for v in d["fieldViolations"]]
    assert violations and "linkedin" in violations[0]["field"]


def test_unknown_path_and_unknown_query_parameter(stack: Stack) -> None:
    token = _bearer(stack.token("e2e-erin"))
    assert request("GET", stack.url("/v1/nothing"), headers=token).status == 404
    unknown = request("GET", stack.url("/v1/users/me?verbose=true"), headers=token)
    assert unknown.status == 400 and "verbose" in unknown.json()["message"]

"""Keycloak webhook through gRPC: signature on the raw body, replay, staleness, each event type."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import grpc
import pytest
from google.api import httpbody_pb2

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.grpc.status import error_info, from_rpc_error
from devinsider_common.webhooks import sign

from ..conftest import WEBHOOK_SECRET, TokenFactory, bearer


def _event(type_: str, subject: str, *, event_id: str = "", age_ms: int = 0, **extra: Any) -> bytes:
    payload: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()),
        "time": int(time.time() * 1000) - age_ms,
        "type": type_,
        "realmId": "devinsider",
        "authDetails": {"realmId": "devinsider", "clientId": "web", "userId": subject},
        "details": {},
    }
    payload.update(extra)
    return json.dumps(payload).encode()


def _send(stub: user_pb2_grpc.UserServiceStub, body: bytes, signature: str | None = None) -> None:
    metadata = () if signature == "" else (("x-keycloak-signature", signature or sign(body, WEBHOOK_SECRET)),)
    request = user_pb2.ReceiveKeycloakEventRequest(
        body=httpbody_pb2.HttpBody(content_type="application/json", data=body)
    )
    stub.ReceiveKeycloakEvent(request, metadata=metadata)


def _admin_list(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> list[user_pb2.User]:
    return list(stub.ListUsers(user_pb2.ListUsersRequest(), metadata=bearer(token("svc", roles=("service",)))).users)


def _register(subject: str, **extra: Any) -> bytes:
    details = {"email": f"{subject}@acme.io", "first_name": "Grace", "last_name": "Hopper"}
    return _event("access.REGISTER", subject, details=details, **extra)


def test_register_creates_the_user(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    _send(stub, _register("kc-grace"))
    [user] = _admin_list(stub, token)
    assert (user.subject, user.email, user.given_name, user.family_name) == (
        "kc-grace",
        "kc-grace@acme.io",
        "Grace",
        "Hopper",
    )


@pytest.mark.parametrize(
    ("signature", "reason"),
    [("", "SIGNATURE_MISSING"), ("deadbeef", "SIGNATURE_MISMATCH"), ("wrong-secret", "SIGNATURE_MISMATCH")],
)
def test_bad_signatures_are_refused_and_change_nothing(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory, signature: str, reason: str
) -> None:
    body = _register("kc-eve")
    header = sign(body, "another-secret") if signature == "wrong-secret" else signature
    with pytest.raises(grpc.RpcError) as call:
        _send(stub, body, header)
    status = from_rpc_error(call.value)
    assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert status is not None and error_info(status).reason == reason  # type: ignore[union-attr]
    assert _admin_list(stub, token) == []


def test_a_tampered_body_is_refused(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    body = _register("kc-eve")
    tampered = body.replace(b"kc-eve@acme.io", b"kc-eve@evil.io")
    with pytest.raises(grpc.RpcError) as call:
        _send(stub, tampered, sign(body, WEBHOOK_SECRET))
    assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert _admin_list(stub, token) == []


def test_the_sha256_prefix_is_accepted(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    body = _register("kc-pre")
    _send(stub, body, "sha256=" + sign(body, WEBHOOK_SECRET))
    assert [u.subject for u in _admin_list(stub, token)] == ["kc-pre"]


def test_a_replayed_event_changes_nothing(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    _send(stub, _register("kc-rep"))
    update_id = str(uuid.uuid4())
    _send(stub, _event("access.UPDATE_PROFILE", "kc-rep", event_id=update_id, details={"first_name": "Ann"}))
    replay = _event("access.UPDATE_PROFILE", "kc-rep", event_id=update_id, details={"first_name": "Mallory"})
    _send(stub, replay)
    assert _admin_list(stub, token)[0].given_name == "Ann"


def test_a_stale_event_changes_nothing(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    _send(stub, _register("kc-old", age_ms=3_600_000))
    assert _admin_list(stub, token) == []


def test_an_older_event_delivered_late_does_not_undo_a_newer_one(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    _send(stub, _register("kc-ooo", age_ms=5000))
    _send(stub, _event("access.UPDATE_EMAIL", "kc-ooo", details={"updated_email": "new@acme.io"}))
    _send(stub, _event("access.UPDATE_EMAIL", "kc-ooo", age_ms=2000, details={"updated_email": "old@acme.io"}))
    assert _admin_list(stub, token)[0].email == "new@acme.io"


def test_admin_events_act_on_the_resource_path_user(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    representation = json.dumps({"email": "ops@acme.io", "firstName": "Op", "lastName": "Erator"})
    _send(
        stub,
        _event("admin.USER-CREATE", "kc-the-admin", resourcePath="users/kc-created", representation=representation),
    )
    [user] = _admin_list(stub, token)
    assert (user.subject, user.email, user.given_name) == ("kc-created", "ops@acme.io", "Op")
    _send(
        stub,
        _event(
            "admin.USER-UPDATE",
            "kc-the-admin",
            resourcePath="users/kc-created",
            representation=json.dumps({"firstName": "Opal"}),
        ),
    )
    assert _admin_list(stub, token)[0].given_name == "Opal"
    _send(stub, _event("admin.USER-DELETE", "kc-the-admin", resourcePath="users/kc-created"))
    assert _admin_list(stub, token)[0].state == user_pb2.USER_STATE_DELETED


def test_keycloak_raw_event_shape_and_delete_account(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    raw = {
        "id": str(uuid.uuid4()),
        "time": int(time.time() * 1000),
        "type": "REGISTER",
        "realmId": "r",
        "userId": "kc-raw",
        "details": {"email": "raw@acme.io"},
    }
    _send(stub, json.dumps(raw).encode())
    assert _admin_list(stub, token)[0].email == "raw@acme.io"
    _send(stub, _event("access.DELETE_ACCOUNT", "kc-raw"))
    assert _admin_list(stub, token)[0].state == user_pb2.USER_STATE_DELETED
    with pytest.raises(grpc.RpcError) as call:  # a deleted account is refused by the auth layer
        stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-raw")))
    assert call.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (json.dumps({"time": 1, "type": "access.REGISTER"}).encode(), "id"),
        (json.dumps({"id": "x", "type": "access.REGISTER"}).encode(), "time"),
        (json.dumps({"id": "x", "time": int(time.time() * 1000), "type": "access.REGISTER"}).encode(), "userId"),
    ],
)
def test_malformed_events_are_invalid_arguments(stub: user_pb2_grpc.UserServiceStub, body: bytes, field: str) -> None:
    with pytest.raises(grpc.RpcError) as call:
        _send(stub, body)
    assert call.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (call.value.details() or "")


def test_unrelated_event_types_are_acknowledged_and_ignored(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    _send(stub, _event("access.LOGIN", "kc-login"))
    assert _admin_list(stub, token) == []

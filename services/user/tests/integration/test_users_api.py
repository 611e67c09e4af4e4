"""UserService through a real gRPC channel and the generated typed stubs, on PostgreSQL and SQLite."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.grpc.status import error_info, field_violations, from_rpc_error

from ..conftest import TokenFactory, bearer


def _error(call: pytest.ExceptionInfo[grpc.RpcError]) -> tuple[grpc.StatusCode, str, list[str]]:
    status = from_rpc_error(call.value)
    assert status is not None, "the server must attach a google.rpc.Status"
    info = error_info(status)
    return call.value.code(), info.reason if info else "", [v.field for v in field_violations(status)]


def test_get_me_creates_the_user_from_the_token_once(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    auth = bearer(token("kc-ada", roles=("isv",), email="Ada@Example.com", given_name="Ada"))
    first = stub.GetMe(user_pb2.GetMeRequest(), metadata=auth)
    second = stub.GetMe(user_pb2.GetMeRequest(), metadata=auth)
    assert first.name.startswith("users/") and first.name == second.name
    assert (first.subject, first.email, first.given_name) == ("kc-ada", "ada@example.com", "Ada")
    assert list(first.roles) == ["isv"]
    assert first.state == user_pb2.USER_STATE_ACTIVE


def test_update_me_changes_only_the_masked_fields(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    auth = bearer(token("kc-bob"))
    stub.GetMe(user_pb2.GetMeRequest(), metadata=auth)
    request = user_pb2.UpdateMeRequest(
        user=user_pb2.User(job_title="CTO", country_code="FR", biography="ignored", email="evil@x.io"),
        update_mask=field_mask_pb2.FieldMask(paths=["job_title", "country_code"]),
    )
    updated = stub.UpdateMe(request, metadata=auth)
    assert (updated.job_title, updated.country_code, updated.biography) == ("CTO", "FR", "")
    assert updated.email == "kc-bob@example.com"  # output-only fields are never taken from the request
    assert stub.GetMe(user_pb2.GetMeRequest(), metadata=auth).job_title == "CTO"


def test_update_me_reports_every_bad_field(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    request = user_pb2.UpdateMeRequest(
        user=user_pb2.User(country_code="france", phone_number="0612", linkedin_url="javascript:alert(1)"),
        update_mask=field_mask_pb2.FieldMask(paths=["country_code", "phone_number", "linkedin_url"]),
    )
    with pytest.raises(grpc.RpcError) as call:
        stub.UpdateMe(request, metadata=bearer(token("kc-carl")))
    code, reason, fields = _error(call)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and reason == "INVALID_ARGUMENT"
    assert sorted(fields) == ["user.country_code", "user.linkedin_url", "user.phone_number"]


def test_update_me_refuses_an_immutable_mask_path(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    request = user_pb2.UpdateMeRequest(user=user_pb2.User(), update_mask=field_mask_pb2.FieldMask(paths=["email"]))
    with pytest.raises(grpc.RpcError) as call:
        stub.UpdateMe(request, metadata=bearer(token("kc-dan")))
    assert _error(call)[2] == ["update_mask.paths[email]"]


def test_get_user_shows_public_fields_to_others(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    me = stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-eve", email="eve@corp.io")))
    seen = stub.GetUser(user_pb2.GetUserRequest(name=me.name), metadata=bearer(token("kc-frank")))
    assert seen.given_name == me.given_name and seen.email == "" and seen.subject == ""
    admin_view = stub.GetUser(
        user_pb2.GetUserRequest(name=me.name), metadata=bearer(token("kc-admin", roles=("admin",)))
    )
    assert admin_view.email == "eve@corp.io"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("users/0190f0a0-0000-7000-8000-000000000000", grpc.StatusCode.NOT_FOUND),
        ("users/", grpc.StatusCode.INVALID_ARGUMENT),
        ("companies/x", grpc.StatusCode.INVALID_ARGUMENT),
        ("users/a/b", grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
def test_get_user_rejects_unknown_or_malformed_names(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory, name: str, expected: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.RpcError) as call:
        stub.GetUser(user_pb2.GetUserRequest(name=name), metadata=bearer(token("kc-gil")))
    assert call.value.code() == expected


def test_list_users_pages_through_everyone_for_admins(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    created = {stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token(f"kc-user{i}"))).name for i in range(5)}
    admin = bearer(token("kc-root", roles=("admin",)))
    seen: list[str] = []
    page_token = ""
    while True:
        page = stub.ListUsers(user_pb2.ListUsersRequest(page_size=2, page_token=page_token), metadata=admin)
        assert len(page.users) <= 2
        seen.extend(u.name for u in page.users)
        page_token = page.next_page_token
        if not page_token:
            break
    assert set(seen) == created and len(seen) == 5  # every user once; ListUsers creates no one


def test_list_users_rejects_foreign_page_tokens(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    admin = bearer(token("kc-root", roles=("admin",)))
    for i in range(3):
        stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token(f"kc-p{i}")))
    first = stub.ListUsers(user_pb2.ListUsersRequest(page_size=1), metadata=admin)
    for bad in ["garbage!", first.next_page_token[:-3]]:
        with pytest.raises(grpc.RpcError) as call:
            stub.ListUsers(user_pb2.ListUsersRequest(page_size=1, page_token=bad), metadata=admin)
        assert _error(call)[2] == ["page_token"]
    with pytest.raises(grpc.RpcError) as call:
        request = user_pb2.ListUsersRequest(page_size=1, page_token=first.next_page_token, email_suffix="@x.io")
        stub.ListUsers(request, metadata=admin)
    assert _error(call)[2] == ["page_token"]
    with pytest.raises(grpc.RpcError) as call:
        stub.ListUsers(user_pb2.ListUsersRequest(page_size=-1), metadata=admin)
    assert _error(call)[2] == ["page_size"]


def test_list_users_filters_by_email_suffix(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-a", email="a@acme.io")))
    stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-b", email="b@other.io")))
    admin = bearer(token("kc-root", roles=("service",), email="svc@devinsider.io"))
    page = stub.ListUsers(user_pb2.ListUsersRequest(email_suffix="@ACME.io"), metadata=admin)
    assert [u.email for u in page.users] == ["a@acme.io"]


def test_list_users_is_refused_without_an_admin_or_service_role(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    with pytest.raises(grpc.RpcError) as call:
        stub.ListUsers(user_pb2.ListUsersRequest(), metadata=bearer(token("kc-isv", roles=("isv", "investor"))))
    assert _error(call)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_MISSING")

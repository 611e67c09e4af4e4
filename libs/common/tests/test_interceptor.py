"""The shared server interceptor on pytest-grpc's server: errors, request ids, deadlines, principal.

The servicer here is a test double of UserService whose handlers misbehave on purpose; what is
under test is the real interceptor, policies and status mapping around it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import context, errors
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.policy import policies_for_service
from devinsider_common.auth.verifier import AllowAll
from devinsider_common.grpc.interceptors import ServiceInterceptor
from devinsider_common.grpc.status import error_info, from_rpc_error
from devinsider_common.settings import AuthSettings

ISSUER = "http://localhost/interceptor-test"
SECRET = "postgresql://admin:hunter2@db"  # must never reach a client


class MisbehavingUsers(user_pb2_grpc.UserServiceServicer):
    def GetMe(self, request: user_pb2.GetMeRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        raise RuntimeError(f"connection to {SECRET} failed")

    def GetUser(self, request: user_pb2.GetUserRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        raise errors.NotFound(f"{request.name} does not exist", reason="USER_NOT_FOUND")

    def ListUsers(  # noqa: N802
        self, request: user_pb2.ListUsersRequest, ctx: grpc.ServicerContext
    ) -> user_pb2.ListUsersResponse:
        principal = context.current_principal()
        remaining = context.remaining_seconds()
        # Echo what the handler sees of the call context through the response.
        return user_pb2.ListUsersResponse(
            next_page_token=f"{context.current_request_id()}|{principal.subject if principal else ''}|{remaining}"
        )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def grpc_interceptors(keys: Path) -> list[Any]:
    verifier = JwtVerifier(AuthSettings(issuer=ISSUER, dev_key_dir=keys))
    policies = policies_for_service("devinsider.user.v1.UserService")
    return [ServiceInterceptor("user", policies, verifier, AllowAll())]


@pytest.fixture(scope="module")
def grpc_add_to_server() -> Any:
    return user_pb2_grpc.add_UserServiceServicer_to_server


@pytest.fixture(scope="module")
def grpc_servicer() -> MisbehavingUsers:
    return MisbehavingUsers()  # type: ignore[abstract]  # only the three RPCs under test exist


@pytest.fixture(scope="module")
def grpc_stub_cls() -> Any:
    return user_pb2_grpc.UserServiceStub


def _auth(keys: Path, roles: tuple[str, ...] = ("admin",)) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {issue_token(keys, ISSUER, 'kc-op', roles=roles)}")]


def test_unexpected_errors_are_internal_without_details(grpc_stub: Any, keys: Path) -> None:
    with pytest.raises(grpc.RpcError) as call:
        grpc_stub.GetMe(user_pb2.GetMeRequest(), metadata=[*_auth(keys), ("x-request-id", "req-42")])
    assert call.value.code() == grpc.StatusCode.INTERNAL
    assert "hunter2" not in str(call.value) and "Traceback" not in str(call.value)
    status = from_rpc_error(call.value)
    assert status is not None and "req-42" in status.message
    assert error_info(status).metadata["request_id"] == "req-42"  # type: ignore[union-attr]


def test_domain_errors_keep_their_code_and_reason(grpc_stub: Any, keys: Path) -> None:
    with pytest.raises(grpc.RpcError) as call:
        grpc_stub.GetUser(user_pb2.GetUserRequest(name="users/x"), metadata=_auth(keys))
    status = from_rpc_error(call.value)
    assert call.value.code() == grpc.StatusCode.NOT_FOUND
    assert status is not None and error_info(status).reason == "USER_NOT_FOUND"  # type: ignore[union-attr]


def test_handlers_see_request_id_principal_and_deadline(grpc_stub: Any, keys: Path) -> None:
    response, call = grpc_stub.ListUsers.with_call(
        user_pb2.ListUsersRequest(), metadata=[*_auth(keys), ("x-request-id", "req-7")], timeout=5
    )
    request_id, subject, remaining = response.next_page_token.split("|")
    assert (request_id, subject) == ("req-7", "kc-op")
    assert 0 < float(remaining) <= 5.5  # the client timeout, give or take clock granularity
    assert ("x-request-id", "req-7") in list(call.trailing_metadata())


def test_a_request_id_is_made_when_absent(grpc_stub: Any, keys: Path) -> None:
    response, call = grpc_stub.ListUsers.with_call(user_pb2.ListUsersRequest(), metadata=_auth(keys))
    generated = dict(call.trailing_metadata())["x-request-id"]
    assert len(generated) == 32 and response.next_page_token.startswith(generated)


def test_the_policy_runs_before_the_handler(grpc_stub: Any, keys: Path) -> None:
    with pytest.raises(grpc.RpcError) as call:
        grpc_stub.ListUsers(user_pb2.ListUsersRequest(), metadata=_auth(keys, roles=("isv",)))
    assert call.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_nul_character_in_any_string_field_is_invalid_argument(grpc_stub: Any, keys: Path) -> None:
    """Found by schemathesis through the edge (`GET /v1/companies/%00`, `?query=a%00b`): PostgreSQL
    text cannot hold NUL, so such a value used to reach the database and end as INTERNAL."""
    requests = [
        (grpc_stub.GetUser, user_pb2.GetUserRequest(name="users/x\x00"), "name"),
        (grpc_stub.ListUsers, user_pb2.ListUsersRequest(email_suffix="\x00"), "email_suffix"),
    ]
    for rpc, request, field in requests:
        with pytest.raises(grpc.RpcError) as call:
            rpc(request, metadata=_auth(keys))
        assert call.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        status = from_rpc_error(call.value)
        assert status is not None and field in status.message and "NUL" in status.message

"""`testing.failure`: one reading of a refusal, whether a use case raised it or a client received it
through a real in-process server and the shared interceptor."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import grpc
import pytest

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import errors
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.policy import policies_for_service
from devinsider_common.auth.verifier import AllowAll
from devinsider_common.grpc.interceptors import ServiceInterceptor
from devinsider_common.settings import AuthSettings
from devinsider_common.testing.failures import Failure, failure, failure_of

ISSUER = "http://localhost/failures-test"


def _bad_request() -> errors.InvalidArgument:
    checks = errors.Violations()
    checks.add("user.display_name", "is required")
    checks.add("user.country_code", "is not an ISO 3166 code")
    try:
        checks.raise_if_any("invalid user")
    except errors.InvalidArgument as error:
        return error
    raise AssertionError("no violations")


# name -> (the error a use case raises, the Failure both levels must read)
ERRORS: dict[str, tuple[errors.DomainError, Failure]] = {
    "not-found": (
        errors.NotFound("users/x does not exist", reason="USER_NOT_FOUND"),
        Failure(grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND"),
    ),
    "invalid": (
        _bad_request(),
        Failure(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["user.display_name", "user.country_code"]),
    ),
    "one-field": (
        errors.InvalidArgument.for_field("page_size", "must not be negative"),
        Failure(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["page_size"]),
    ),
    "exists": (
        errors.AlreadyExists("a pending invitation exists", reason="INVITATION_PENDING"),
        Failure(grpc.StatusCode.ALREADY_EXISTS, "INVITATION_PENDING"),
    ),
    "precondition": (
        errors.FailedPrecondition("a page must keep at least one owner", reason="LAST_OWNER"),
        Failure(grpc.StatusCode.FAILED_PRECONDITION, "LAST_OWNER"),
    ),
    "conflict": (errors.Conflict("changed meanwhile"), Failure(grpc.StatusCode.ABORTED, "CONFLICT")),
    "denied": (
        errors.PermissionDenied("needs manage_members", reason="PAGE_PERMISSION_DENIED"),
        Failure(grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED"),
    ),
    "exhausted": (
        errors.ResourceExhausted("too many", reason="INVITATIONS_RATE_LIMITED", retry_after_seconds=30),
        Failure(grpc.StatusCode.RESOURCE_EXHAUSTED, "INVITATIONS_RATE_LIMITED"),
    ),
    "unavailable": (
        errors.Unavailable("the database cannot be reached"),
        Failure(grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE"),
    ),
}


class Refusing(user_pb2_grpc.UserServiceServicer):
    """GetUser raises the error named by the request; GetMe succeeds."""

    def GetUser(self, request: user_pb2.GetUserRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        raise ERRORS[request.name.removeprefix("users/")][0]

    def GetMe(self, request: user_pb2.GetMeRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        return user_pb2.User(name="users/me")


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
def grpc_servicer() -> Refusing:
    return Refusing()  # type: ignore[abstract]  # only the two RPCs under test exist


@pytest.fixture(scope="module")
def grpc_stub_cls() -> Any:
    return user_pb2_grpc.UserServiceStub


@pytest.fixture(scope="module")
def metadata(keys: Path) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {issue_token(keys, ISSUER, 'kc-op', roles=('admin',))}")]


@pytest.mark.parametrize("name", list(ERRORS))
def test_a_raised_error_and_its_rpc_error_read_the_same(grpc_stub: Any, metadata: Any, name: str) -> None:
    error, expected = ERRORS[name]

    def use_case() -> None:
        raise error

    raised = failure(use_case)
    received = failure(lambda: grpc_stub.GetUser(user_pb2.GetUserRequest(name=f"users/{name}"), metadata=metadata))
    assert raised == received == expected
    assert raised.message == received.message == str(error)


def test_a_call_that_succeeds_is_not_a_refusal(grpc_stub: Any, metadata: Any) -> None:
    with pytest.raises(AssertionError, match="succeeded"):
        failure(lambda: grpc_stub.GetMe(user_pb2.GetMeRequest(), metadata=metadata))
    with pytest.raises(AssertionError, match="succeeded"):
        failure(lambda: None)


def test_a_refusal_of_the_interceptor_reads_the_same_way(grpc_stub: Any) -> None:
    refused = failure(lambda: grpc_stub.GetMe(user_pb2.GetMeRequest()))  # no token
    assert refused.code == grpc.StatusCode.UNAUTHENTICATED and refused.reason


def test_a_transport_failure_has_a_code_and_no_reason() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)
        refused = failure(lambda: stub.GetMe(user_pb2.GetMeRequest(), timeout=2))
    assert (refused.code, refused.reason, refused.fields) == (grpc.StatusCode.UNAVAILABLE, "", [])


def test_other_exceptions_are_not_refusals() -> None:
    def bug() -> None:
        raise KeyError("a bug, not a refusal")

    with pytest.raises(KeyError):
        failure(bug)
    with pytest.raises(AssertionError, match="not a refusal"):
        failure_of(ValueError("x"))

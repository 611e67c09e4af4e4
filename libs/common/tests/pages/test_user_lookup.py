"""The user service as the page services' `UserLookup` (pages.user_directory): who `users/{id}` is and
whether the platform lets them in, from GetUser and CheckUserAccess; the real user service answers the
same calls in tests/e2e/test_account_deletion.py."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from devinsider.user.v1 import user_pb2
from devinsider_common import errors
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.ports import DirectoryUser
from devinsider_common.pages.user_directory import NoUserLookup, UserServiceLookup, user_lookup
from devinsider_common.settings import ServiceSettings


class RpcFailure(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


class Users:
    """The two calls of a UserServiceStub, answering from a dict of users and access verdicts."""

    def __init__(self, users: dict[str, user_pb2.User], verdicts: dict[str, str], down: bool = False) -> None:
        self.users, self.verdicts, self.down = users, verdicts, down
        self.calls: list[Any] = []

    def GetUser(self, request: user_pb2.GetUserRequest) -> user_pb2.User:  # noqa: N802
        self.calls.append(request)
        if self.down:
            raise RpcFailure(grpc.StatusCode.UNAVAILABLE)
        if request.name not in self.users:
            raise RpcFailure(grpc.StatusCode.NOT_FOUND)
        return self.users[request.name]

    def CheckUserAccess(self, request: user_pb2.CheckUserAccessRequest) -> user_pb2.CheckUserAccessResponse:  # noqa: N802
        self.calls.append(request)
        reason = self.verdicts.get(request.subject, "")
        return user_pb2.CheckUserAccessResponse(allowed=not reason, reason=reason)


def user(user_id: str, **fields: Any) -> user_pb2.User:
    return user_pb2.User(name=f"users/{user_id}", subject=f"kc-{user_id}", email=f"{user_id}@ACME.io", **fields)


def lookup(users: Users) -> UserServiceLookup:
    return UserServiceLookup(users)  # type: ignore[arg-type]


def test_a_known_user_is_described_with_the_platforms_verdict() -> None:
    users = Users({"users/bob": user("bob", given_name="Bob", family_name="Builder"), "users/eve": user("eve")}, {})
    users.verdicts["kc-eve"] = "BLACKLISTED_DOMAIN"
    assert lookup(users).find("users/bob") == DirectoryUser("users/bob", "kc-bob", "Bob Builder", "bob@acme.io")
    assert users.calls[-1] == user_pb2.CheckUserAccessRequest(subject="kc-bob", email="bob@ACME.io")
    assert lookup(users).find("users/eve") == DirectoryUser(
        "users/eve", "kc-eve", "eve@ACME.io", "eve@acme.io", refusal="BLACKLISTED_DOMAIN"
    )


def test_unknown_and_deleted_users_are_none() -> None:
    users = Users({"users/gone": user("gone")}, {"kc-gone": "DELETED"})  # deleted between the two calls
    assert lookup(users).find("users/nobody") is None
    assert lookup(users).find("users/gone") is None


def test_a_user_service_that_cannot_answer_is_unavailable() -> None:
    with pytest.raises(errors.Unavailable):
        lookup(Users({}, {}, down=True)).find("users/bob")


def test_without_a_user_service_nobody_can_be_named() -> None:
    assert isinstance(
        user_lookup(ServiceSettings(service_name="company", user_target=""), ChannelFactory()), NoUserLookup
    )
    with pytest.raises(errors.Unavailable) as raised:
        NoUserLookup().find("users/bob")
    assert raised.value.reason == "USER_SERVICE_NOT_CONFIGURED"
    channels = ChannelFactory()
    try:
        assert isinstance(user_lookup(ServiceSettings(service_name="company"), channels), UserServiceLookup)
    finally:
        channels.close()

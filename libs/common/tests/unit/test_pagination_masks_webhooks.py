"""Shared request mechanics without I/O: pagination, webhook signatures, ids, policies."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

import pytest

from devinsider.user.v1 import user_pb2
from devinsider_common import errors
from devinsider_common.auth.policy import policies_for_service
from devinsider_common.auth.principal import Principal
from devinsider_common.grpc.status import error_info, field_violations, to_status_proto
from devinsider_common.ids import new_id
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.webhooks import verify_signature


@dataclass
class Item:
    id: str


def test_page_size_defaults_and_is_capped() -> None:
    assert list_window(0, "", ListLimits()).size == 50
    assert list_window(10_000, "", ListLimits()).size == 200
    with pytest.raises(errors.InvalidArgument):
        list_window(-1, "", ListLimits())


def test_page_tokens_round_trip_and_are_bound_to_their_filters() -> None:
    page = list_window(2, "", ListLimits(), filters={"state": "x"})
    items, token = finish_window(page, [Item("a"), Item("b"), Item("c")])
    assert [i.id for i in items] == ["a", "b"] and token
    assert list_window(2, token, ListLimits(), filters={"state": "x"}).after == ("b",)
    with pytest.raises(errors.InvalidArgument):
        list_window(2, token, ListLimits(), filters={"state": "y"})
    assert finish_window(page, [Item("a")]) == ([Item("a")], "")


def test_webhook_signatures() -> None:
    body = b'{"id":"1"}'
    good = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    verify_signature(body, good, "s3cret")
    verify_signature(body, "sha256=" + good.upper(), "s3cret")
    for header, reason in [
        (None, "SIGNATURE_MISSING"),
        ("", "SIGNATURE_MISSING"),
        (good[:-1] + "0", "SIGNATURE_MISMATCH"),
    ]:
        with pytest.raises(errors.Unauthenticated) as raised:
            verify_signature(body, header, "s3cret")
        assert raised.value.reason == reason
    with pytest.raises(errors.Unauthenticated):
        verify_signature(body + b" ", good, "s3cret")


def test_ids_are_uuid7_and_sort_by_creation() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(2000)]  # many in each millisecond
    after = time.time_ns() // 1_000_000
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
    # Strictly increasing, also within a millisecond: "newest first" never swaps two creations.
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stamps = {uuid.UUID(i).int >> 80 for i in ids}  # the 48-bit millisecond timestamp leads
    assert before <= min(stamps) and max(stamps) <= after + 1
    assert len(stamps) < len(ids)  # several ids shared a millisecond, and still sorted


def test_ids_keep_increasing_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    first = new_id()
    monkeypatch.setattr(time, "time_ns", lambda: 1_000_000_000_000)  # 2001: far in the past
    later = [new_id() for _ in range(3)]
    assert [first, *later] == sorted([first, *later]) and len({first, *later}) == 4


def test_domain_errors_become_rich_statuses() -> None:
    error = errors.InvalidArgument.for_field("user.country_code", "bad")
    status = to_status_proto(error, "user")
    assert status.code == 3
    assert error_info(status).reason == "INVALID_ARGUMENT"  # type: ignore[union-attr]
    assert error_info(status).domain == "user.devinsider.io"  # type: ignore[union-attr]
    assert [v.field for v in field_violations(status)] == ["user.country_code"]
    assert to_status_proto(errors.Conflict("x"), "user").code == 10
    assert to_status_proto(errors.NotFound("x"), "user").code == 5


def test_policies_come_from_the_proto_options() -> None:
    policies = policies_for_service(user_pb2.DESCRIPTOR.services_by_name["UserService"].full_name)
    list_users = policies["/devinsider.user.v1.UserService/ListUsers"]
    assert list_users.roles == {"admin", "service"}
    list_users.authorize(Principal("s", frozenset({"admin"})))
    with pytest.raises(errors.PermissionDenied):
        list_users.authorize(Principal("s", frozenset({"isv"})))
    with pytest.raises(errors.Unauthenticated):
        list_users.authorize(None)
    policies["/devinsider.user.v1.UserService/ReceiveKeycloakEvent"].authorize(None)
    check = policies["/devinsider.user.v1.UserService/CheckUserAccess"]
    with pytest.raises(errors.PermissionDenied):
        check.authorize(Principal("s", frozenset({"admin"})))

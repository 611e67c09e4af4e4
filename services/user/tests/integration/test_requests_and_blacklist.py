"""Verified-pro requests, support requests and the blacklist through gRPC."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest
import redis
from google.rpc import error_details_pb2

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.grpc.status import error_info, field_violations, from_rpc_error
from user_service.bootstrap import start

from ..conftest import TokenFactory, bearer, make_settings

VALID = user_pb2.ProVerification(work_email="ada@acme.io", company_name="Acme", evidence_url="https://acme.io/team")


def test_pro_verification_flow(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    ada, admin = bearer(token("kc-ada")), bearer(token("kc-staff", roles=("admin",)))
    created = stub.CreateProVerification(user_pb2.CreateProVerificationRequest(pro_verification=VALID), metadata=ada)
    assert created.state == user_pb2.PRO_VERIFICATION_STATE_PENDING and created.user.startswith("users/")
    with pytest.raises(grpc.RpcError) as call:  # one pending request per user
        stub.CreateProVerification(user_pb2.CreateProVerificationRequest(pro_verification=VALID), metadata=ada)
    assert call.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    staff_user = stub.GetMe(user_pb2.GetMeRequest(), metadata=admin)
    approved = stub.ApproveProVerification(user_pb2.ApproveProVerificationRequest(name=created.name), metadata=admin)
    assert approved.state == user_pb2.PRO_VERIFICATION_STATE_APPROVED and approved.reviewer == staff_user.name
    assert stub.GetMe(user_pb2.GetMeRequest(), metadata=ada).verified_pro is True
    with pytest.raises(grpc.RpcError) as call:  # decided once and for all
        stub.RejectProVerification(user_pb2.RejectProVerificationRequest(name=created.name, reason="x"), metadata=admin)
    assert call.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_pro_verification_is_idempotent_by_request_id(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    ada = bearer(token("kc-ada"))
    request = user_pb2.CreateProVerificationRequest(pro_verification=VALID, request_id="retry-1")
    first = stub.CreateProVerification(request, metadata=ada)
    again = stub.CreateProVerification(request, metadata=ada)
    assert first.name == again.name


def test_a_request_id_over_128_characters_is_refused_not_cut(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    ada = bearer(token("kc-ada"))
    key = "k" * 128
    first = stub.CreateProVerification(
        user_pb2.CreateProVerificationRequest(pro_verification=VALID, request_id=f" {key}  "), metadata=ada
    )
    assert (
        stub.CreateProVerification(
            user_pb2.CreateProVerificationRequest(pro_verification=VALID, request_id=key), metadata=ada
        ).name
        == first.name
    )
    too_long = key + "x"
    support = user_pb2.SupportRequest(subject="Help", message="My page is gone")
    with pytest.raises(grpc.RpcError) as pro:
        stub.CreateProVerification(
            user_pb2.CreateProVerificationRequest(pro_verification=VALID, request_id=too_long), metadata=ada
        )
    with pytest.raises(grpc.RpcError) as help_request:
        stub.CreateSupportRequest(
            user_pb2.CreateSupportRequestRequest(support_request=support, request_id=too_long), metadata=ada
        )
    for call in (pro, help_request):
        status = from_rpc_error(call.value)
        assert call.value.code() == grpc.StatusCode.INVALID_ARGUMENT and status is not None
        assert [v.field for v in field_violations(status)] == ["request_id"]


def test_pro_verifications_are_private_to_their_requester(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    created = stub.CreateProVerification(
        user_pb2.CreateProVerificationRequest(pro_verification=VALID), metadata=bearer(token("kc-ada"))
    )
    other = bearer(token("kc-bob"))
    with pytest.raises(grpc.RpcError) as call:
        stub.GetProVerification(user_pb2.GetProVerificationRequest(name=created.name), metadata=other)
    assert call.value.code() == grpc.StatusCode.NOT_FOUND
    assert (
        list(stub.ListProVerifications(user_pb2.ListProVerificationsRequest(), metadata=other).pro_verifications) == []
    )
    with pytest.raises(grpc.RpcError) as call:
        stub.ApproveProVerification(user_pb2.ApproveProVerificationRequest(name=created.name), metadata=other)
    assert call.value.code() == grpc.StatusCode.PERMISSION_DENIED
    staff = stub.ListProVerifications(
        user_pb2.ListProVerificationsRequest(state=user_pb2.PRO_VERIFICATION_STATE_PENDING),
        metadata=bearer(token("svc", roles=("service",))),
    )
    assert [p.name for p in staff.pro_verifications] == [created.name]


def test_rejection_needs_a_reason_and_bad_requests_name_their_fields(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    bad = user_pb2.ProVerification(work_email="not-an-email", company_name="", evidence_url="ftp://x")
    with pytest.raises(grpc.RpcError) as call:
        stub.CreateProVerification(
            user_pb2.CreateProVerificationRequest(pro_verification=bad), metadata=bearer(token("kc-z"))
        )
    assert call.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for field in ("work_email", "company_name", "evidence_url"):
        assert f"pro_verification.{field}" in (call.value.details() or "")
    created = stub.CreateProVerification(
        user_pb2.CreateProVerificationRequest(pro_verification=VALID), metadata=bearer(token("kc-y"))
    )
    admin = bearer(token("kc-staff", roles=("admin",)))
    with pytest.raises(grpc.RpcError) as call:
        stub.RejectProVerification(user_pb2.RejectProVerificationRequest(name=created.name, reason=" "), metadata=admin)
    assert call.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    rejected = stub.RejectProVerification(
        user_pb2.RejectProVerificationRequest(name=created.name, reason="no proof"), metadata=admin
    )
    assert (rejected.state, rejected.rejection_reason) == (user_pb2.PRO_VERIFICATION_STATE_REJECTED, "no proof")


def test_support_requests(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory) -> None:
    request = user_pb2.CreateSupportRequestRequest(
        support_request=user_pb2.SupportRequest(subject="Help", message="My page is gone"), request_id="r1"
    )
    created = stub.CreateSupportRequest(request, metadata=bearer(token("kc-ada")))
    assert stub.CreateSupportRequest(request, metadata=bearer(token("kc-ada"))).name == created.name
    listed = stub.ListSupportRequests(
        user_pb2.ListSupportRequestsRequest(), metadata=bearer(token("a", roles=("admin",)))
    )
    assert [s.name for s in listed.support_requests] == [created.name]
    with pytest.raises(grpc.RpcError) as call:
        empty = user_pb2.CreateSupportRequestRequest(support_request=user_pb2.SupportRequest(subject="", message=""))
        stub.CreateSupportRequest(empty, metadata=bearer(token("kc-ada")))
    assert call.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_blacklisted_domain_and_user_are_refused_until_lifted(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory
) -> None:
    admin = bearer(token("kc-staff", roles=("admin",), email="staff@devinsider.io"))
    spammer = bearer(token("kc-spam", email="x@mail.spam.example"))
    stub.GetMe(user_pb2.GetMeRequest(), metadata=spammer)
    entry = stub.CreateBlacklistEntry(
        user_pb2.CreateBlacklistEntryRequest(
            blacklist_entry=user_pb2.BlacklistEntry(kind=user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN, value="Spam.Example")
        ),
        metadata=admin,
    )
    assert entry.value == "spam.example"
    with pytest.raises(grpc.RpcError) as call:
        stub.GetMe(user_pb2.GetMeRequest(), metadata=spammer)
    assert call.value.code() == grpc.StatusCode.PERMISSION_DENIED
    check = stub.CheckUserAccess(
        user_pb2.CheckUserAccessRequest(subject="kc-spam", email="x@mail.spam.example"),
        metadata=bearer(token("svc", roles=("service",))),
    )
    assert (check.allowed, check.reason) == (False, "BLACKLISTED_DOMAIN")
    with pytest.raises(grpc.RpcError) as call:
        stub.CreateBlacklistEntry(
            user_pb2.CreateBlacklistEntryRequest(
                blacklist_entry=user_pb2.BlacklistEntry(kind=user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN, value="spam.example")
            ),
            metadata=admin,
        )
    assert call.value.code() == grpc.StatusCode.ALREADY_EXISTS
    stub.DeleteBlacklistEntry(user_pb2.DeleteBlacklistEntryRequest(name=entry.name), metadata=admin)
    assert stub.GetMe(user_pb2.GetMeRequest(), metadata=spammer).subject == "kc-spam"
    user_entry = stub.CreateBlacklistEntry(
        user_pb2.CreateBlacklistEntryRequest(
            blacklist_entry=user_pb2.BlacklistEntry(kind=user_pb2.BLACKLIST_KIND_USER, value="kc-spam", reason="abuse")
        ),
        metadata=admin,
    )
    with pytest.raises(grpc.RpcError) as call:
        stub.GetMe(user_pb2.GetMeRequest(), metadata=spammer)
    assert call.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = stub.ListBlacklistEntries(
        user_pb2.ListBlacklistEntriesRequest(kind=user_pb2.BLACKLIST_KIND_USER), metadata=admin
    )
    assert [e.name for e in listed.blacklist_entries] == [user_entry.name]


@pytest.mark.parametrize(
    "entry",
    [
        user_pb2.BlacklistEntry(kind=user_pb2.BLACKLIST_KIND_UNSPECIFIED, value="x"),
        user_pb2.BlacklistEntry(kind=user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN, value="not a domain"),
        user_pb2.BlacklistEntry(kind=user_pb2.BLACKLIST_KIND_USER, value=""),
    ],
)
def test_invalid_blacklist_entries(
    stub: user_pb2_grpc.UserServiceStub, token: TokenFactory, entry: user_pb2.BlacklistEntry
) -> None:
    with pytest.raises(grpc.RpcError) as call:
        stub.CreateBlacklistEntry(
            user_pb2.CreateBlacklistEntryRequest(blacklist_entry=entry), metadata=bearer(token("a", roles=("admin",)))
        )
    assert call.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_blacklist_is_enforced_within_the_cache_ttl_shared_in_redis(
    tmp_path: Path, pg_schema: tuple[str, str], redis_prefix: tuple[str, str], token: TokenFactory
) -> None:
    redis_url, prefix = redis_prefix
    settings = make_settings(
        tmp_path, *pg_schema, redis_url=redis_url, redis_key_prefix=prefix, access_cache_ttl_seconds=1.0
    )
    service = start(settings)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)
            victim = bearer(token("kc-late", email="late@bad.example"))
            stub.GetMe(user_pb2.GetMeRequest(), metadata=victim)  # allowed, and the answer is cached
            assert redis.Redis.from_url(redis_url).exists(f"{prefix}:cache:access:kc-late|late@bad.example")
            entry = user_pb2.BlacklistEntry(kind=user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN, value="bad.example")
            stub.CreateBlacklistEntry(
                user_pb2.CreateBlacklistEntryRequest(blacklist_entry=entry),
                metadata=bearer(token("a", roles=("admin",))),
            )
            stub.GetMe(user_pb2.GetMeRequest(), metadata=victim)  # still within the bound: cached answer
            time.sleep(1.2)
            with pytest.raises(grpc.RpcError) as call:
                stub.GetMe(user_pb2.GetMeRequest(), metadata=victim)
            assert call.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        service.stop(grace=0)


def test_support_requests_are_limited_per_user_and_window(
    tmp_path: Path, database: tuple[str, str], token: TokenFactory
) -> None:
    running = start(make_settings(tmp_path, *database, support_request_rate_limit=2))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)

            def send(who: str, request_id: str) -> user_pb2.SupportRequest:
                message = user_pb2.SupportRequest(subject="Help", message="Still broken")
                request = user_pb2.CreateSupportRequestRequest(support_request=message, request_id=request_id)
                return stub.CreateSupportRequest(request, metadata=bearer(token(who)))

            first = send("kc-ada", "r1")
            send("kc-ada", "r2")
            assert send("kc-ada", "r1").name == first.name  # a retry is not a new request: never refused
            with pytest.raises(grpc.RpcError) as call:
                send("kc-ada", "r3")
            assert call.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            status = from_rpc_error(call.value)
            assert status is not None and error_info(status).reason == "SUPPORT_REQUESTS_RATE_LIMITED"  # type: ignore[union-attr]
            retry = error_details_pb2.RetryInfo()
            assert any(detail.Unpack(retry) for detail in status.details)
            assert 3590 < retry.retry_delay.ToTimedelta().total_seconds() <= 3600
            send("kc-bob", "r1")  # per user: the others still write
    finally:
        running.stop(grace=0)

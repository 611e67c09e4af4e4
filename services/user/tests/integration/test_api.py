"""Every UserService RPC through a real gRPC channel on PostgreSQL: the request reaches its use case,
the answer comes back as proto, and a refusal arrives as its status with reason and field details.
(The rules behind them are tested without I/O in tests/unit.) The tests share the module's server:
each names its own callers (`names`)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import grpc
from google.api import httpbody_pb2
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.grpc.status import from_rpc_error
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.services import Metadata
from devinsider_common.testing.tokens import TokenFactory
from devinsider_common.webhooks import sign

from ..conftest import Names, bearer
from ..fakes import WEBHOOK_SECRET

Stub = user_pb2_grpc.UserServiceStub
VALID = user_pb2.ProVerification(work_email="ada@acme.io", company_name="Acme", evidence_url="https://acme.io/team")


def _as(token: TokenFactory, names: Names, who: str, *roles: str) -> Metadata:
    return bearer(token(names.subject(who), roles=roles or ("isv",), email=names.email(who)))


def test_get_and_update_me(stub: Stub, token: TokenFactory, names: Names) -> None:
    subject = names.subject("ada")
    auth = bearer(token(subject, email=f"Ada@{names.domain.upper()}", given_name="Ada"))
    me = stub.GetMe(user_pb2.GetMeRequest(), metadata=auth)
    assert me.name.startswith("users/") and (me.subject, me.email, list(me.roles)) == (
        subject,
        names.email("ada"),
        ["isv"],
    )
    assert me.state == user_pb2.USER_STATE_ACTIVE and me.create_time.seconds > 0
    request = user_pb2.UpdateMeRequest(
        user=user_pb2.User(
            job_title="CTO",
            country_code="FR",
            biography="ignored",
            email="evil@x.io",
            contact_category=user_pb2.CONTACT_CATEGORY_RESELLER,
        ),
        update_mask=field_mask_pb2.FieldMask(paths=["job_title", "country_code", "contact_category"]),
    )
    updated = stub.UpdateMe(request, metadata=auth)
    assert (updated.job_title, updated.country_code, updated.biography, updated.email) == (
        "CTO",
        "FR",
        "",
        names.email("ada"),  # output-only fields are never taken from the request
    )
    assert updated.contact_category == user_pb2.CONTACT_CATEGORY_RESELLER
    assert stub.GetMe(user_pb2.GetMeRequest(), metadata=auth) == updated

    def update(user: user_pb2.User, *paths: str) -> object:
        mask = field_mask_pb2.FieldMask(paths=list(paths))
        return stub.UpdateMe(user_pb2.UpdateMeRequest(user=user, update_mask=mask), metadata=auth)

    bad = user_pb2.User(country_code="france", phone_number="0612")
    refused = failure(lambda: update(bad, "country_code", "phone_number"))
    assert (refused.code, refused.reason, sorted(refused.fields)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        ["user.country_code", "user.phone_number"],
    )
    assert failure(lambda: update(user_pb2.User(), "email")).fields == ["update_mask.paths[email]"]
    unknown_category = user_pb2.User(contact_category=99)  # type: ignore[arg-type]
    assert failure(lambda: update(unknown_category, "contact_category")).fields == ["user.contact_category"]


def test_get_user_shows_public_fields_to_others_and_refuses_bad_names(
    stub: Stub, token: TokenFactory, names: Names
) -> None:
    me = stub.GetMe(user_pb2.GetMeRequest(), metadata=_as(token, names, "eve"))
    other = _as(token, names, "frank")
    seen = stub.GetUser(user_pb2.GetUserRequest(name=me.name), metadata=other)
    assert (seen.given_name, seen.email, seen.subject) == (me.given_name, "", "")
    admin = stub.GetUser(user_pb2.GetUserRequest(name=me.name), metadata=_as(token, names, "admin", "admin"))
    assert admin.email == names.email("eve")
    unknown = user_pb2.GetUserRequest(name="users/0190f0a0-0000-7000-8000-000000000000")
    assert failure(lambda: stub.GetUser(unknown, metadata=other)) == Failure(
        grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND"
    )
    for name in ("users/", "companies/x", "users/a/b"):
        malformed = failure(lambda: stub.GetUser(user_pb2.GetUserRequest(name=name), metadata=other))  # noqa: B023
        assert (malformed.code, malformed.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["name"])


def test_list_users_pages_with_tokens_for_admins_only(stub: Stub, token: TokenFactory, names: Names) -> None:
    created = {stub.GetMe(user_pb2.GetMeRequest(), metadata=_as(token, names, f"u{i}")).name for i in range(3)}
    stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token(names.subject("other"), email="o@other.example")))
    admin = bearer(token(names.subject("root"), roles=("admin",), email="root@devinsider.io"))
    seen: list[str] = []
    page_token = ""
    while True:
        request = user_pb2.ListUsersRequest(
            page_size=1, page_token=page_token, email_suffix=names.domain.upper(), state=user_pb2.USER_STATE_ACTIVE
        )
        response = stub.ListUsers(request, metadata=admin)
        assert all(u.email for u in response.users)  # the directory shows private fields to staff
        seen.extend(u.name for u in response.users)
        page_token = response.next_page_token
        if not page_token:
            break
    assert sorted(seen) == sorted(created)
    first = stub.ListUsers(user_pb2.ListUsersRequest(page_size=1), metadata=admin)
    other_query = user_pb2.ListUsersRequest(page_size=1, page_token=first.next_page_token, email_suffix="@x.io")
    assert failure(lambda: stub.ListUsers(other_query, metadata=admin)).fields == ["page_token"]
    bad_state = user_pb2.ListUsersRequest(state=7)  # type: ignore[arg-type]
    assert failure(lambda: stub.ListUsers(bad_state, metadata=admin)).fields == ["state"]
    isv = _as(token, names, "isv", "isv", "investor")
    assert failure(lambda: stub.ListUsers(user_pb2.ListUsersRequest(), metadata=isv)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "ROLE_MISSING"
    )


def test_pro_verification_rpcs(stub: Stub, token: TokenFactory, names: Names) -> None:
    ada, bob = _as(token, names, "ada"), _as(token, names, "bob")
    admin = _as(token, names, "staff", "admin")
    key = "k" * 128
    created = stub.CreateProVerification(
        user_pb2.CreateProVerificationRequest(pro_verification=VALID, request_id=f" {key} "), metadata=ada
    )
    assert created.state == user_pb2.PRO_VERIFICATION_STATE_PENDING and created.user.startswith("users/")
    retry = user_pb2.CreateProVerificationRequest(pro_verification=VALID, request_id=key)
    assert stub.CreateProVerification(retry, metadata=ada).name == created.name  # the key is stripped
    too_long = user_pb2.CreateProVerificationRequest(pro_verification=VALID, request_id=key + "x")
    assert failure(lambda: stub.CreateProVerification(too_long, metadata=ada)).fields == ["request_id"]
    again = user_pb2.CreateProVerificationRequest(pro_verification=VALID)
    assert failure(lambda: stub.CreateProVerification(again, metadata=ada)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "PRO_VERIFICATION_PENDING"
    )
    get = user_pb2.GetProVerificationRequest(name=created.name)
    assert stub.GetProVerification(get, metadata=ada) == created
    assert failure(lambda: stub.GetProVerification(get, metadata=bob)).code == grpc.StatusCode.NOT_FOUND
    mine = stub.ListProVerifications(user_pb2.ListProVerificationsRequest(), metadata=bob)
    assert list(mine.pro_verifications) == []
    pending = user_pb2.ListProVerificationsRequest(state=user_pb2.PRO_VERIFICATION_STATE_PENDING, page_size=100)
    assert created.name in [p.name for p in stub.ListProVerifications(pending, metadata=admin).pro_verifications]
    approve = user_pb2.ApproveProVerificationRequest(name=created.name)
    assert failure(lambda: stub.ApproveProVerification(approve, metadata=bob)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "ROLE_MISSING"
    )
    staff = stub.GetMe(user_pb2.GetMeRequest(), metadata=admin)
    approved = stub.ApproveProVerification(approve, metadata=admin)
    assert (approved.state, approved.reviewer) == (user_pb2.PRO_VERIFICATION_STATE_APPROVED, staff.name)
    assert approved.decide_time.seconds > 0 and stub.GetMe(user_pb2.GetMeRequest(), metadata=ada).verified_pro
    reject = user_pb2.RejectProVerificationRequest(name=created.name, reason="late")
    assert failure(lambda: stub.RejectProVerification(reject, metadata=admin)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "PRO_VERIFICATION_DECIDED"
    )
    bobs = stub.CreateProVerification(user_pb2.CreateProVerificationRequest(pro_verification=VALID), metadata=bob)
    blank = user_pb2.RejectProVerificationRequest(name=bobs.name, reason=" ")
    assert failure(lambda: stub.RejectProVerification(blank, metadata=admin)).fields == ["reason"]
    reason = user_pb2.RejectProVerificationRequest(name=bobs.name, reason="no")
    rejected = stub.RejectProVerification(reason, metadata=admin)
    assert (rejected.state, rejected.rejection_reason) == (user_pb2.PRO_VERIFICATION_STATE_REJECTED, "no")
    bad = user_pb2.CreateProVerificationRequest(pro_verification=user_pb2.ProVerification(work_email="x"))
    refused = failure(lambda: stub.CreateProVerification(bad, metadata=ada))
    assert refused.fields == ["pro_verification.work_email", "pro_verification.company_name"]


def _raised(call: Callable[[], object]) -> grpc.RpcError:
    try:
        call()
    except grpc.RpcError as error:
        return error
    raise AssertionError("the call succeeded")


def test_support_request_rpcs_and_the_rate_limit(stub: Stub, token: TokenFactory, names: Names) -> None:
    ada = _as(token, names, "ada")

    def send(request_id: str) -> user_pb2.SupportRequest:
        message = user_pb2.SupportRequest(subject="Help", message="My page is gone")
        return stub.CreateSupportRequest(
            user_pb2.CreateSupportRequestRequest(support_request=message, request_id=request_id), metadata=ada
        )

    first = send("r0")
    assert send("r0").name == first.name and first.subject == "Help"
    for i in range(1, 5):  # the default limit: 5 per user and hour
        send(f"r{i}")
    status = from_rpc_error(_raised(lambda: send("r5")))
    assert failure(lambda: send("r5")) == Failure(grpc.StatusCode.RESOURCE_EXHAUSTED, "SUPPORT_REQUESTS_RATE_LIMITED")
    retry = error_details_pb2.RetryInfo()
    assert status is not None and any(detail.Unpack(retry) for detail in status.details)
    assert 3590 < retry.retry_delay.ToTimedelta().total_seconds() <= 3600
    assert failure(lambda: send("r" * 129)).fields == ["request_id"]
    empty = user_pb2.CreateSupportRequestRequest(support_request=user_pb2.SupportRequest())
    assert failure(lambda: stub.CreateSupportRequest(empty, metadata=_as(token, names, "bob"))).fields == [
        "support_request.subject",
        "support_request.message",
    ]
    admin = _as(token, names, "staff", "admin")
    listed: list[str] = []
    page_token = ""
    while True:
        request = user_pb2.ListSupportRequestsRequest(page_size=2, page_token=page_token)
        response = stub.ListSupportRequests(request, metadata=admin)
        listed.extend(s.name for s in response.support_requests)
        page_token = response.next_page_token
        if not page_token:
            break
    assert first.name in listed and len(listed) >= 5
    assert failure(lambda: stub.ListSupportRequests(user_pb2.ListSupportRequestsRequest(), metadata=ada)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "ROLE_MISSING"
    )


def test_blacklist_rpcs_and_the_access_guard(stub: Stub, token: TokenFactory, names: Names) -> None:
    admin = bearer(token(names.subject("staff"), roles=("admin",), email="staff@devinsider.io"))
    spammer = bearer(token(names.subject("spam"), email=f"x@mail.{names.domain}"))
    me = stub.GetMe(user_pb2.GetMeRequest(), metadata=spammer)

    def create(kind: int, value: str) -> user_pb2.BlacklistEntry:
        entry = user_pb2.BlacklistEntry(kind=kind, value=value)  # type: ignore[arg-type]
        return stub.CreateBlacklistEntry(user_pb2.CreateBlacklistEntryRequest(blacklist_entry=entry), metadata=admin)

    domain = create(user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN, names.domain.upper())
    assert domain.value == names.domain and domain.name.startswith("blacklistEntries/")
    assert failure(lambda: stub.GetMe(user_pb2.GetMeRequest(), metadata=spammer)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "BLACKLISTED_DOMAIN"
    )
    service = bearer(token("svc", roles=("service",)))
    check = stub.CheckUserAccess(user_pb2.CheckUserAccessRequest(subject=names.subject("spam")), metadata=service)
    assert (check.allowed, check.reason, check.user, check.cache_ttl_seconds) == (
        False,
        "BLACKLISTED_DOMAIN",
        me.name,
        30,
    )
    assert failure(lambda: create(user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN, names.domain)) == Failure(
        grpc.StatusCode.ALREADY_EXISTS, "ALREADY_BLACKLISTED"
    )
    assert failure(lambda: create(user_pb2.BLACKLIST_KIND_UNSPECIFIED, "x")).fields == ["blacklist_entry.kind"]
    not_a_domain = failure(lambda: create(user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN, "not a domain"))
    assert not_a_domain.fields == ["blacklist_entry.value"]
    user = create(user_pb2.BLACKLIST_KIND_USER, names.subject("other"))
    by_kind = user_pb2.ListBlacklistEntriesRequest(kind=user_pb2.BLACKLIST_KIND_USER, page_size=100)
    listed = [e.name for e in stub.ListBlacklistEntries(by_kind, metadata=admin).blacklist_entries]
    assert user.name in listed and domain.name not in listed
    stub.DeleteBlacklistEntry(user_pb2.DeleteBlacklistEntryRequest(name=domain.name), metadata=admin)
    assert stub.GetMe(user_pb2.GetMeRequest(), metadata=spammer).name == me.name
    delete = user_pb2.DeleteBlacklistEntryRequest(name=domain.name)
    assert failure(lambda: stub.DeleteBlacklistEntry(delete, metadata=admin)) == Failure(
        grpc.StatusCode.NOT_FOUND, "BLACKLIST_ENTRY_NOT_FOUND"
    )


def test_check_user_access_is_for_services_only(stub: Stub, token: TokenFactory, names: Names) -> None:
    request = user_pb2.CheckUserAccessRequest(subject=names.subject("x"))
    admin = _as(token, names, "adm", "admin")
    assert failure(lambda: stub.CheckUserAccess(request, metadata=admin)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "SERVICE_ONLY"
    )
    service = bearer(token("svc-matching", roles=("service",)))
    assert stub.CheckUserAccess(request, metadata=service).allowed
    no_subject = user_pb2.CheckUserAccessRequest()
    assert failure(lambda: stub.CheckUserAccess(no_subject, metadata=service)).fields == ["subject"]


def _keycloak(stub: Stub, body: bytes, signature: str | None = None) -> None:
    header = sign(body, WEBHOOK_SECRET) if signature is None else signature
    request = user_pb2.ReceiveKeycloakEventRequest(
        body=httpbody_pb2.HttpBody(content_type="application/json", data=body)
    )
    stub.ReceiveKeycloakEvent(request, metadata=(("x-keycloak-signature", header),) if header else ())


def test_keycloak_events_arrive_signed_and_without_a_token(stub: Stub, token: TokenFactory, names: Names) -> None:
    subject = names.subject("raw")

    def event(type_: str, age_ms: int = 0, **extra: object) -> bytes:
        at = int(time.time() * 1000) - age_ms
        return json.dumps({"id": str(uuid.uuid4()), "time": at, "type": type_, "userId": subject, **extra}).encode()

    register = event("REGISTER", 1000, details={"email": names.email("raw"), "first_name": "Raw"})
    assert failure(lambda: _keycloak(stub, register, signature="")) == Failure(
        grpc.StatusCode.UNAUTHENTICATED, "SIGNATURE_MISSING"
    )
    _keycloak(stub, register)
    service = bearer(token("svc", roles=("service",)))
    [user] = stub.ListUsers(user_pb2.ListUsersRequest(email_suffix=names.domain), metadata=service).users
    assert (user.subject, user.email, user.given_name) == (subject, names.email("raw"), "Raw")
    login = event("LOGIN", 500)
    _keycloak(stub, login)
    _keycloak(stub, event("access.VERIFY_EMAIL", 400))
    me = stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token(subject)))
    assert me.email_verified and me.last_login_time.ToMilliseconds() == json.loads(login)["time"]
    public = stub.GetUser(user_pb2.GetUserRequest(name=me.name), metadata=bearer(token(names.subject("other"))))
    assert not public.email_verified and not public.HasField("last_login_time")  # the user's own, not others'
    staff = stub.GetUser(user_pb2.GetUserRequest(name=me.name), metadata=_as(token, names, "ops", "admin"))
    assert staff.email_verified and staff.last_login_time == me.last_login_time and not staff.disabled
    _keycloak(stub, event("access.DELETE_ACCOUNT"))
    assert failure(lambda: stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token(subject)))) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "DELETED"
    )
    malformed = failure(lambda: _keycloak(stub, b"{not json"))
    assert (malformed.code, malformed.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["body"])

"""Verified-pro and support requests: their rules, without I/O."""

from __future__ import annotations

from dataclasses import replace

import grpc
import pytest

from devinsider_common import errors
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import principal
from devinsider_common.unit_of_work import DuplicateRecord
from user_service.domain.requests import ProVerification, ProVerificationState, SupportRequest

from ..fakes import Published, World, published, world

ADA, BOB = principal("kc-ada"), principal("kc-bob")
ADMIN, SERVICE = principal("kc-staff", roles=("admin",)), principal("svc", roles=("service",))
VALID = ProVerification(
    id="", user_id="", work_email="ada@acme.io", company_name="Acme", evidence_url="https://acme.io"
)
HELP = SupportRequest(id="", user_id="", subject="Help", message="My page is gone")


@pytest.fixture
def w() -> World:
    return world()


def test_a_pro_verification_is_stored_pending_for_the_caller_with_its_event(w: World) -> None:
    created = w.app.requests.create_pro_verification(ADA, VALID)
    ada = w.app.users.me(ADA)
    assert (created.user_id, created.state, created.created_at) == (ada.id, ProVerificationState.PENDING, w.clock.now)
    assert w.committed("pro_verifications") == [created]
    assert published(w.store, "pro_verification_changed") == [
        Published("pro_verification_changed", created.name, (ProVerificationState.PENDING, ada.email))
    ]


def test_one_pending_pro_verification_per_user(w: World) -> None:
    w.app.requests.create_pro_verification(ADA, VALID)
    assert failure(lambda: w.app.requests.create_pro_verification(ADA, VALID)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "PRO_VERIFICATION_PENDING"
    )
    assert len(w.committed("pro_verifications")) == 1
    w.app.requests.create_pro_verification(BOB, VALID)  # per user


def test_the_same_idempotency_key_returns_the_first_request(w: World) -> None:
    first = w.app.requests.create_pro_verification(ADA, replace(VALID, idempotency_key="retry-1"))
    again = w.app.requests.create_pro_verification(ADA, replace(VALID, idempotency_key="retry-1", company_name="Other"))
    assert again == first and len(w.committed("pro_verifications")) == 1


def test_a_concurrent_retry_returns_the_twin_it_stored(w: World) -> None:
    draft = replace(VALID, idempotency_key="retry-2")
    w.app.users.me(ADA)
    twins: list[ProVerification] = []
    w.store.racers["pro_verifications"] = lambda: twins.append(w.app.requests.create_pro_verification(ADA, draft))
    assert w.app.requests.create_pro_verification(ADA, draft) == twins[0]
    assert len(w.committed("pro_verifications")) == 1


def test_a_concurrent_request_under_another_key_leaves_the_first_pending(w: World) -> None:
    w.app.users.me(ADA)
    w.store.racers["pro_verifications"] = lambda: w.app.requests.create_pro_verification(ADA, VALID)
    refused = failure(lambda: w.app.requests.create_pro_verification(ADA, replace(VALID, idempotency_key="mine")))
    assert refused == Failure(grpc.StatusCode.FAILED_PRECONDITION, "PRO_VERIFICATION_PENDING")
    assert len(w.committed("pro_verifications")) == 1


def test_a_concurrent_request_without_a_key_leaves_the_first_pending(w: World) -> None:
    w.app.users.me(ADA)
    w.store.racers["pro_verifications"] = lambda: w.app.requests.create_pro_verification(ADA, VALID)
    assert failure(lambda: w.app.requests.create_pro_verification(ADA, VALID)).reason == "PRO_VERIFICATION_PENDING"


def test_a_bad_pro_verification_names_every_bad_field(w: World) -> None:
    bad = replace(VALID, work_email="not-an-email", company_name="", evidence_url="ftp://x", message="x" * 2001)
    refused = failure(lambda: w.app.requests.create_pro_verification(ADA, bad))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.fields == [
        "pro_verification.work_email",
        "pro_verification.company_name",
        "pro_verification.evidence_url",
        "pro_verification.message",
    ]
    assert w.committed("pro_verifications") == []


def test_a_pro_verification_is_private_to_its_requester_staff_and_services(w: World) -> None:
    created = w.app.requests.create_pro_verification(ADA, VALID)
    assert w.app.requests.get_pro_verification(ADA, created.id) == created
    assert w.app.requests.get_pro_verification(ADMIN, created.id) == created
    not_found = Failure(grpc.StatusCode.NOT_FOUND, "PRO_VERIFICATION_NOT_FOUND")
    assert failure(lambda: w.app.requests.get_pro_verification(BOB, created.id)) == not_found
    assert failure(lambda: w.app.requests.get_pro_verification(principal("kc-unknown"), created.id)) == not_found
    assert failure(lambda: w.app.requests.get_pro_verification(ADMIN, "missing")) == not_found


def test_list_pro_verifications_shows_callers_their_own_and_staff_everyone(w: World) -> None:
    ada = w.app.requests.create_pro_verification(ADA, VALID)
    bob = w.app.requests.create_pro_verification(BOB, VALID)
    w.app.requests.decide_pro_verification(ADMIN, bob.id, approve=True)
    assert w.app.requests.list_pro_verifications(ADA, 0, "", None) == ([ada], "")
    assert w.app.requests.list_pro_verifications(principal("kc-carl"), 0, "", None) == ([], "")
    both = sorted([ada.id, bob.id])
    assert [p.id for p in w.app.requests.list_pro_verifications(SERVICE, 0, "", None)[0]] == both
    pending = w.app.requests.list_pro_verifications(SERVICE, 0, "", ProVerificationState.PENDING)[0]
    assert [p.id for p in pending] == [ada.id]
    first, token = w.app.requests.list_pro_verifications(ADMIN, 1, "", None)
    assert [p.id for p in first] == both[:1]
    assert [p.id for p in w.app.requests.list_pro_verifications(ADMIN, 1, token, None)[0]] == both[1:]


def test_approval_makes_the_user_a_verified_pro_once(w: World) -> None:
    staff = w.app.users.me(ADMIN)
    created = w.app.requests.create_pro_verification(ADA, VALID)
    w.clock.advance(hours=1)
    approved = w.app.requests.decide_pro_verification(ADMIN, created.id, approve=True)
    assert (approved.state, approved.reviewer, approved.decided_at) == (
        ProVerificationState.APPROVED,
        staff.name,
        w.clock.now,
    )
    assert w.committed("pro_verifications") == [approved]
    ada = w.app.users.me(ADA)
    assert ada.verified_pro and ada.updated_at == w.clock.now
    assert [(e.kind, e.detail) for e in published(w.store)[-2:]] == [
        ("user_updated", ("verified_pro",)),
        ("pro_verification_changed", (ProVerificationState.APPROVED, ada.email)),
    ]
    assert failure(lambda: w.app.requests.decide_pro_verification(ADMIN, created.id, approve=False, reason="x")) == (
        Failure(grpc.StatusCode.FAILED_PRECONDITION, "PRO_VERIFICATION_DECIDED")
    )
    # A second approved request of a verified pro changes the request, not the user.
    second = w.app.requests.create_pro_verification(ADA, VALID)
    w.app.requests.decide_pro_verification(SERVICE, second.id, approve=True)
    assert len(published(w.store, "user_updated")) == 1
    assert w.app.requests.get_pro_verification(ADA, second.id).reviewer == "svc"  # no user: the subject


def test_rejection_needs_a_reason_and_leaves_the_user_unverified(w: World) -> None:
    created = w.app.requests.create_pro_verification(ADA, VALID)
    refused = failure(lambda: w.app.requests.decide_pro_verification(ADMIN, created.id, approve=False, reason=" "))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["reason"])
    rejected = w.app.requests.decide_pro_verification(ADMIN, created.id, approve=False, reason="no proof")
    assert (rejected.state, rejected.rejection_reason) == (ProVerificationState.REJECTED, "no proof")
    assert not w.app.users.me(ADA).verified_pro and published(w.store, "user_updated") == []


def test_deciding_an_unknown_request_or_one_whose_user_is_gone_is_refused(w: World) -> None:
    assert failure(lambda: w.app.requests.decide_pro_verification(ADMIN, "missing", approve=True)) == Failure(
        grpc.StatusCode.NOT_FOUND, "PRO_VERIFICATION_NOT_FOUND"
    )
    created = w.app.requests.create_pro_verification(ADA, VALID)
    with w.uow() as uow:
        uow.tables["users"].clear()
        uow.commit()
    assert failure(lambda: w.app.requests.decide_pro_verification(ADMIN, created.id, approve=True)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "USER_NOT_FOUND"
    )
    assert w.committed("pro_verifications") == [created]  # nothing decided


def test_a_support_request_is_stored_and_announced(w: World) -> None:
    created = w.app.requests.create_support_request(ADA, replace(HELP, idempotency_key="r1"))
    assert (created.user_id, created.created_at) == (w.app.users.me(ADA).id, w.clock.now)
    assert w.app.requests.create_support_request(ADA, replace(HELP, idempotency_key="r1")) == created
    assert published(w.store, "support_request_created") == [
        Published("support_request_created", created.name, "kc-ada@example.com")
    ]
    assert w.app.requests.list_support_requests(0, "") == ([created], "")


def test_a_concurrent_support_retry_returns_the_twin_it_stored(w: World) -> None:
    draft = replace(HELP, idempotency_key="r2")
    w.app.users.me(ADA)
    twins: list[SupportRequest] = []
    w.store.racers["support_requests"] = lambda: twins.append(w.app.requests.create_support_request(ADA, draft))
    assert w.app.requests.create_support_request(ADA, draft) == twins[0]
    assert len(w.committed("support_requests")) == 1


def test_a_duplicate_support_request_without_a_key_is_not_hidden(w: World) -> None:
    def collide() -> None:
        raise DuplicateRecord("support_requests_pkey")  # no twin to return: a bug, reported as INTERNAL

    w.app.users.me(ADA)
    w.store.racers["support_requests"] = collide
    with pytest.raises(DuplicateRecord):
        w.app.requests.create_support_request(ADA, HELP)


def test_a_bad_support_request_names_its_fields(w: World) -> None:
    refused = failure(lambda: w.app.requests.create_support_request(ADA, replace(HELP, subject="", message="")))
    assert refused.fields == ["support_request.subject", "support_request.message"]
    too_long = failure(lambda: w.app.requests.create_support_request(ADA, replace(HELP, message="x" * 5001)))
    assert too_long.fields == ["support_request.message"]


def test_support_requests_are_limited_per_user_and_window() -> None:
    w = world(support_request_rate_limit=2, support_request_rate_window_seconds=3600)
    first = w.app.requests.create_support_request(ADA, replace(HELP, idempotency_key="r1"))
    w.clock.advance(minutes=10)
    w.app.requests.create_support_request(ADA, replace(HELP, idempotency_key="r2"))
    assert w.app.requests.create_support_request(ADA, replace(HELP, idempotency_key="r1")) == first  # a retry
    with pytest.raises(errors.ResourceExhausted) as refused:
        w.app.requests.create_support_request(ADA, replace(HELP, idempotency_key="r3"))
    assert refused.value.reason == "SUPPORT_REQUESTS_RATE_LIMITED"
    assert refused.value.retry_after_seconds == pytest.approx(3000)  # when the oldest leaves the window
    w.app.requests.create_support_request(BOB, HELP)  # per user: the others still write
    w.clock.advance(minutes=50, seconds=1)
    w.app.requests.create_support_request(ADA, replace(HELP, idempotency_key="r3"))  # the oldest left the window
    assert len(w.committed("support_requests")) == 4


def test_support_requests_are_not_limited_when_the_limit_is_zero() -> None:
    w = world(support_request_rate_limit=0)
    for _ in range(8):
        w.app.requests.create_support_request(ADA, HELP)
    assert len(w.committed("support_requests")) == 8

"""Contact requests on fakes: every rule of sending, reading and answering, and what is published."""

from __future__ import annotations

from functools import partial

import grpc
import pytest

from contact_service.domain.requests import Direction, RequestState
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure

from ..harness import FUND, ISV, OTHER_ISV, PROGRAM, STAFF, Contact

DENIED = Failure(grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
INVALID = grpc.StatusCode.INVALID_ARGUMENT


# --- sending ----------------------------------------------------------------------------------


def test_a_page_that_unlocked_another_sends_it_a_request(contact: Contact, investor: Principal) -> None:
    sent = contact.send(investor, ISV, "  Hello, we invest in BI.  ")
    assert sent.name == f"{FUND.name}/contactRequests/{sent.id}"
    assert (sent.sender, sent.target, sent.state, sent.message) == (
        FUND,
        ISV,
        RequestState.PENDING,
        "Hello, we invest in BI.",
    )
    assert sent.sender_contact is not None and sent.sender_contact.user == "users/victor"
    assert sent.sender_contact.email == "victor@example.com"
    assert (sent.sender_display_name, sent.target_display_name) == ("Fund-1", "Isv-1")
    assert sent.creator == "victor"  # no user service: the subject
    created = contact.published("ContactRequestCreated")
    assert [e.about for e in created] == [sent.name]
    counters = {e.about: e.details["counters"] for e in contact.published("PageContactCounters")}
    assert counters == {FUND.name: (1, 0, 0, 0), ISV.name: (0, 0, 1, 0)}


def test_the_same_request_id_returns_the_same_request_and_refuses_another_target(
    contact: Contact, investor: Principal
) -> None:
    first = contact.send(investor, ISV, request_id="r1")
    assert contact.send(investor, ISV, "other words", request_id="r1") == first
    contact.unlock(FUND, OTHER_ISV)
    refused = failure(lambda: contact.send(investor, OTHER_ISV, request_id="r1"))
    assert (refused.code, refused.fields) == (INVALID, ["request_id"])
    assert len(contact.published("ContactRequestCreated")) == 1


def test_sending_needs_edit_on_the_sending_page(contact: Contact, investor: Principal) -> None:
    viewer = contact.member(FUND, "vera", PageRole.VIEWER)
    stranger = contact.member(OTHER_ISV, "sam")
    assert failure(lambda: contact.send(viewer, ISV)) == DENIED
    assert failure(lambda: contact.send(stranger, ISV)) == DENIED
    assert failure(lambda: contact.send(STAFF, ISV, contact="users/victor")) == DENIED  # staff read, never send
    editor = contact.member(FUND, "eddy", PageRole.EDITOR)
    assert contact.send(editor, ISV).state is RequestState.PENDING


def test_a_page_not_unlocked_cannot_be_contacted(contact: Contact, investor: Principal) -> None:
    refused = failure(lambda: contact.send(investor, OTHER_ISV))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CONTACT_REQUIRES_UNLOCK")
    assert "unlock" in refused.message
    # An unlock the other way round does not count: the sender must have unlocked the target.
    contact.unlock(ISV, PROGRAM)
    program = contact.member(PROGRAM, "pat")
    assert failure(lambda: contact.send(program, ISV, sender=PROGRAM)).reason == "CONTACT_REQUIRES_UNLOCK"


def test_a_blocked_pair_is_refused(contact: Contact, investor: Principal) -> None:
    contact.blocks.block(ISV, FUND)
    assert failure(lambda: contact.send(investor, ISV)) == Failure(grpc.StatusCode.FAILED_PRECONDITION, "BLOCKED")
    assert contact.published() == []


def test_one_open_request_per_ordered_pair(contact: Contact, investor: Principal, isv_admin: Principal) -> None:
    pending = contact.send(investor, ISV)
    refused = failure(lambda: contact.send(investor, ISV))
    assert (refused.code, refused.reason) == (grpc.StatusCode.ALREADY_EXISTS, "CONTACT_REQUEST_EXISTS")
    assert pending.name in refused.message
    contact.app.requests.accept(isv_admin, FUND, pending.id, "users/alice")
    assert failure(lambda: contact.send(investor, ISV)).reason == "CONTACT_REQUEST_EXISTS"
    # The other way round is another pair.
    contact.unlock(ISV, FUND)
    assert contact.send(isv_admin, FUND, sender=ISV).state is RequestState.PENDING


def test_after_a_decline_the_sender_waits_for_the_cool_down(
    contact: Contact, investor: Principal, isv_admin: Principal
) -> None:
    first = contact.send(investor, ISV)
    contact.app.requests.decline(isv_admin, FUND, first.id, "not now")
    contact.clock.advance(days=29)
    refused = failure(lambda: contact.send(investor, ISV))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CONTACT_REQUEST_COOLDOWN")
    contact.clock.advance(days=1, seconds=1)
    assert contact.send(investor, ISV).state is RequestState.PENDING


def test_a_withdrawn_request_can_be_sent_again_at_once(contact: Contact, investor: Principal) -> None:
    first = contact.send(investor, ISV)
    assert contact.app.requests.withdraw(investor, FUND, first.id).state is RequestState.WITHDRAWN
    assert contact.send(investor, ISV).state is RequestState.PENDING
    assert [e.about for e in contact.published("ContactRequestWithdrawn")] == [first.name]


def test_a_page_sends_at_most_the_daily_rate(contact: Contact, investor: Principal) -> None:
    targets = [OTHER_ISV, PROGRAM, ISV]
    for target in targets:
        contact.unlock(FUND, target)
        contact.send(investor, target)
        contact.clock.advance(hours=1)
    extra = contact.member(OTHER_ISV, "olga")  # any fourth target
    fourth = type(ISV)(ISV.kind, "isv-4")
    contact.unlock(FUND, fourth)
    refused = failure(lambda: contact.send(investor, fourth))
    assert (refused.code, refused.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "CONTACT_REQUESTS_RATE_LIMITED")
    assert "at most 3 contact requests per 24 hours" in refused.message
    contact.clock.advance(hours=21, seconds=1)  # the first one leaves the window
    assert contact.send(investor, fourth).state is RequestState.PENDING
    assert extra.subject == "olga"


def test_sizes_and_shapes_are_field_violations(contact: Contact, investor: Principal) -> None:
    too_long = failure(lambda: contact.send(investor, ISV, "x" * 2001))
    assert (too_long.code, too_long.fields) == (INVALID, ["contact_request.message"])
    assert failure(lambda: contact.send(investor, ISV, "   ")).fields == ["contact_request.message"]
    assert contact.send(investor, ISV, "y" * 2000).message == "y" * 2000
    own = failure(lambda: contact.send(investor, FUND, ""))
    assert own.fields == ["contact_request.target.name", "contact_request.message"]
    bad_user = failure(lambda: contact.send(investor, OTHER_ISV, contact="victor"))
    assert bad_user.fields == ["contact_request.sender_contact.user"]


def test_the_contact_person_is_a_member_of_the_sender_the_platform_admits(
    contact: Contact, investor: Principal
) -> None:
    contact.member(ISV, "ivan")  # a user, but not of FUND
    path = ["contact_request.sender_contact.user"]
    assert failure(lambda: contact.send(investor, ISV, contact="users/ivan")).fields == path
    assert failure(lambda: contact.send(investor, ISV, contact="users/nobody")).fields == path
    contact.member(FUND, "banned", PageRole.VIEWER, refusal="BLACKLISTED_USER")
    refused = failure(lambda: contact.send(investor, ISV, contact="users/banned"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CONTACT_PERSON_REFUSED")
    colleague = contact.member(FUND, "carla", PageRole.VIEWER)
    sent = contact.send(investor, ISV, contact=f"users/{colleague.subject}")
    assert sent.sender_contact is not None and sent.sender_contact.display_name == "Carla"


def test_a_deleted_target_is_not_found(contact: Contact, investor: Principal) -> None:
    contact.pages.missing.add(ISV)
    refused = failure(lambda: contact.send(investor, ISV))
    assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "CONTACT_TARGET_NOT_FOUND")


# --- reading ----------------------------------------------------------------------------------


def test_the_target_sees_the_sender_contact_only_once_accepted(
    contact: Contact, investor: Principal, isv_admin: Principal
) -> None:
    sent = contact.send(investor, ISV)
    viewer = contact.member(ISV, "ivy", PageRole.VIEWER)
    assert contact.app.requests.get(investor, FUND, sent.id).sender_contact is not None
    assert contact.app.requests.get(viewer, FUND, sent.id).sender_contact is None
    assert contact.app.requests.get(STAFF, FUND, sent.id).sender_contact is not None
    contact.app.requests.accept(isv_admin, FUND, sent.id, "users/alice")
    seen = contact.app.requests.get(viewer, FUND, sent.id)
    assert seen.sender_contact is not None and seen.sender_contact.user == "users/victor"
    assert seen.target_contact is not None and seen.target_contact.user == "users/alice"


def test_strangers_learn_nothing_of_a_request(contact: Contact, investor: Principal) -> None:
    sent = contact.send(investor, ISV)
    stranger = contact.member(OTHER_ISV, "sam")
    assert failure(lambda: contact.app.requests.get(stranger, FUND, sent.id)) == DENIED
    assert failure(lambda: contact.app.requests.get(stranger, FUND, "nope")) == DENIED
    missing = failure(lambda: contact.app.requests.get(investor, FUND, "nope"))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "CONTACT_REQUEST_NOT_FOUND")


def test_incoming_and_outgoing_lists_newest_first_in_windows(
    contact: Contact, investor: Principal, isv_admin: Principal
) -> None:
    program = contact.member(PROGRAM, "pat")
    contact.unlock(PROGRAM, ISV)
    first = contact.send(investor, ISV)
    second = contact.send(program, ISV, sender=PROGRAM)
    requests = contact.app.requests
    page, token = requests.list_requests(isv_admin, ISV, Direction.INCOMING, None, 1, "")
    assert [r.id for r in page] == [second.id] and token
    page, token = requests.list_requests(isv_admin, ISV, Direction.INCOMING, None, 1, token)
    assert [r.id for r in page] == [first.id] and not token
    assert page[0].sender_contact is None  # not accepted yet
    outgoing, _ = requests.list_requests(investor, FUND, Direction.OUTGOING, None, 10, "")
    assert [r.id for r in outgoing] == [first.id] and outgoing[0].sender_contact is not None
    assert requests.list_requests(isv_admin, ISV, Direction.INCOMING, RequestState.ACCEPTED, 10, "")[0] == []
    assert requests.list_requests(isv_admin, ISV, Direction.OUTGOING, None, 10, "")[0] == []
    assert failure(lambda: requests.list_requests(investor, ISV, Direction.INCOMING, None, 10, "")) == DENIED
    refused = failure(lambda: requests.list_requests(isv_admin, ISV, None, None, 10, ""))
    assert refused.fields == ["direction"]


# --- answering --------------------------------------------------------------------------------


def test_accepting_reveals_both_contacts_and_opens_a_conversation(
    contact: Contact, investor: Principal, isv_admin: Principal
) -> None:
    sent = contact.send(investor, ISV)
    contact.clock.advance(minutes=5)
    accepted = contact.app.requests.accept(isv_admin, FUND, sent.id, "users/alice")
    assert accepted.state is RequestState.ACCEPTED
    assert accepted.target_contact is not None and accepted.target_contact.email == "alice@example.com"
    assert accepted.decider == "alice" and accepted.decided_at == contact.clock()
    assert accepted.conversation.startswith("conversations/")
    view = contact.app.conversations.get(investor, accepted.conversation_id)
    assert view.conversation.pages == (FUND, ISV) and view.conversation.contact_request == sent.name
    assert view.conversation.second.contact == accepted.target_contact
    assert [e.about for e in contact.published("ContactRequestAccepted")] == [sent.name]
    counters = [e.details["counters"] for e in contact.published("PageContactCounters") if e.about == FUND.name]
    assert counters[-1] == (1, 1, 0, 0)
    # Accepting again changes nothing.
    assert contact.app.requests.accept(isv_admin, FUND, sent.id, "users/alice") == accepted
    assert len(contact.published("ContactRequestAccepted")) == 1


def test_only_managers_of_the_target_answer(contact: Contact, investor: Principal, isv_admin: Principal) -> None:
    sent = contact.send(investor, ISV)
    editor = contact.member(ISV, "eve", PageRole.EDITOR)
    requests = contact.app.requests
    for who in (editor, investor, STAFF):
        assert failure(partial(requests.accept, who, FUND, sent.id, "users/eve")) == DENIED
        assert failure(partial(requests.decline, who, FUND, sent.id, "")) == DENIED
    assert failure(lambda: contact.app.requests.accept(isv_admin, FUND, "unknown", "users/alice")) == DENIED
    assert failure(lambda: contact.app.requests.withdraw(isv_admin, FUND, sent.id)) == DENIED


def test_the_target_contact_person_is_a_member_of_the_target(
    contact: Contact, investor: Principal, isv_admin: Principal
) -> None:
    sent = contact.send(investor, ISV)
    assert failure(lambda: contact.app.requests.accept(isv_admin, FUND, sent.id, "users/victor")).fields == [
        "contact_person"
    ]
    contact.member(ISV, "gone", PageRole.VIEWER, refusal="DISABLED")
    refused = failure(lambda: contact.app.requests.accept(isv_admin, FUND, sent.id, "users/gone"))
    assert refused.reason == "CONTACT_PERSON_REFUSED"
    contact.blocks.block(FUND, ISV)
    assert failure(lambda: contact.app.requests.accept(isv_admin, FUND, sent.id, "users/alice")).reason == "BLOCKED"


def test_declining_and_withdrawing_end_a_pending_request_only(
    contact: Contact, investor: Principal, isv_admin: Principal
) -> None:
    sent = contact.send(investor, ISV)
    long_reason = failure(lambda: contact.app.requests.decline(isv_admin, FUND, sent.id, "x" * 501))
    assert long_reason.fields == ["reason"]
    declined = contact.app.requests.decline(isv_admin, FUND, sent.id, " Not our market ")
    assert (declined.state, declined.decline_reason, declined.sender_contact) == (
        RequestState.DECLINED,
        "Not our market",
        None,
    )
    assert contact.app.requests.decline(isv_admin, FUND, sent.id, "again").decline_reason == "Not our market"
    not_pending = failure(lambda: contact.app.requests.accept(isv_admin, FUND, sent.id, "users/alice"))
    assert (not_pending.code, not_pending.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "CONTACT_REQUEST_NOT_PENDING",
    )
    assert (
        failure(lambda: contact.app.requests.withdraw(investor, FUND, sent.id)).reason == "CONTACT_REQUEST_NOT_PENDING"
    )
    assert [e.about for e in contact.published("ContactRequestDeclined")] == [sent.name]
    missing = failure(lambda: contact.app.requests.withdraw(investor, FUND, "nope"))
    assert missing.reason == "CONTACT_REQUEST_NOT_FOUND"


def test_a_reverse_request_continues_the_pair_conversation(
    contact: Contact, investor: Principal, isv_admin: Principal
) -> None:
    first = contact.app.requests.accept(isv_admin, FUND, contact.send(investor, ISV).id, "users/alice")
    contact.unlock(ISV, FUND)
    colleague = contact.member(ISV, "bob", PageRole.VIEWER)
    back = contact.send(isv_admin, FUND, contact="users/bob", sender=ISV)
    accepted = contact.app.requests.accept(investor, ISV, back.id, "users/victor")
    assert accepted.conversation_id == first.conversation_id
    conversation = contact.app.conversations.get(investor, first.conversation_id).conversation
    assert conversation.participant(ISV).contact.user == f"users/{colleague.subject}"
    assert conversation.contact_request == first.name  # the one that opened it


@pytest.mark.parametrize("role", [PageRole.OWNER, PageRole.ADMIN])
def test_owners_and_admins_of_the_target_answer(contact: Contact, investor: Principal, role: PageRole) -> None:
    manager = contact.member(ISV, f"m-{role.name.lower()}", role)
    sent = contact.send(investor, ISV)
    accepted = contact.app.requests.accept(manager, FUND, sent.id, f"users/{manager.subject}")
    assert accepted.state is RequestState.ACCEPTED

"""The domain's rules and value objects, without any I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
from hypothesis import given
from hypothesis import strategies as st

from contact_service.domain.conversations import Conversation, ConversationView, Participant, ReadMark, pair_key
from contact_service.domain.requests import ContactPerson, ContactRequest, RequestState, excerpt, require_cooled_down
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.testing.failures import failure

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
FUND, ISV = PageName(PageKind.INVESTOR, "f"), PageName(PageKind.COMPANY, "i")
VICTOR = ContactPerson("users/v", "Victor", "v@example.com")
ALICE = ContactPerson("users/a", "Alice", "a@example.com")


def request() -> ContactRequest:
    return ContactRequest("r1", FUND, ISV, "hello", VICTOR, "Fund", "Isv", "users/v", NOW)


def test_the_target_sees_the_sender_contact_once_accepted_only() -> None:
    pending = request()
    assert pending.seen_by_target().sender_contact is None
    declined = pending.declined("no", "users/a", NOW)
    assert declined.seen_by_target().sender_contact is None
    accepted = pending.accepted(ALICE, "c1", "users/a", NOW)
    assert accepted.seen_by_target() == accepted
    assert accepted.conversation == "conversations/c1"
    refused = failure(lambda: accepted.withdrawn("users/v", NOW))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CONTACT_REQUEST_NOT_PENDING")
    assert pending.withdrawn("users/v", NOW).state is RequestState.WITHDRAWN


def test_the_cool_down_counts_from_the_decline() -> None:
    require_cooled_down(None, timedelta(days=30), NOW)
    require_cooled_down(NOW - timedelta(days=30), timedelta(days=30), NOW)
    refused = failure(lambda: require_cooled_down(NOW - timedelta(days=1), timedelta(days=30), NOW))
    assert refused.reason == "CONTACT_REQUEST_COOLDOWN" and "2026-04-08" in refused.message


def test_excerpts_fold_whitespace_and_cut_with_an_ellipsis() -> None:
    assert excerpt("  a\n\n b  ") == "a b"
    cut = excerpt("word " * 100)
    assert len(cut) <= 200 and cut.endswith("…")


@given(st.text(max_size=600))
def test_an_excerpt_is_never_longer_than_its_limit(text: str) -> None:
    assert len(excerpt(text)) <= 200


def test_a_pair_has_one_key_in_either_order_and_unread_counts_never_go_negative() -> None:
    assert pair_key(FUND, ISV) == pair_key(ISV, FUND)
    conversation = Conversation("c1", Participant(FUND, "Fund", VICTOR), Participant(ISV, "Isv", ALICE), "r", NOW)
    busy = conversation.posted(NOW).posted(NOW)
    assert ConversationView(busy).unread_count == 2
    assert ConversationView(busy, ReadMark("c1", "s", 1, "m1", NOW)).unread_count == 1
    assert ConversationView(conversation, ReadMark("c1", "s", 5, "m5", NOW)).unread_count == 0
    assert busy.other(FUND).page == ISV and busy.participant(ISV).contact == ALICE
    moved = busy.with_contacts({ISV: VICTOR})
    assert (moved.first.contact, moved.second.contact) == (VICTOR, VICTOR)

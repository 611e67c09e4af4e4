"""Conversations on fakes: who reads and writes them, numbering, pagination, read marks and unread counts."""

from __future__ import annotations

import grpc
import pytest

from contact_service.domain.conversations import TEXT_MAX_LENGTH
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure

from ..harness import FUND, ISV, OTHER_ISV, STAFF, Contact

NOT_FOUND = Failure(grpc.StatusCode.NOT_FOUND, "CONVERSATION_NOT_FOUND")


@pytest.fixture
def conversation(contact: Contact, investor: Principal, isv_admin: Principal) -> str:
    """The id of FUND and ISV's conversation (victor's request, accepted by alice)."""
    sent = contact.send(investor, ISV)
    return contact.app.requests.accept(isv_admin, FUND, sent.id, "users/alice").conversation_id


def test_members_of_both_pages_post_numbered_messages(
    contact: Contact, conversation: str, investor: Principal, isv_admin: Principal
) -> None:
    talk = contact.app.conversations
    first = talk.create_message(investor, conversation, "Hello Alice", None, "")
    contact.clock.advance(minutes=1)
    second = talk.create_message(isv_admin, conversation, "Hello Victor", None, "")
    assert (first.sequence, first.author_page, first.author) == (1, FUND, "victor")
    assert (second.sequence, second.author_page, second.author_name) == (2, ISV, "Ada Lovelace")
    assert second.name == f"conversations/{conversation}/messages/{second.id}"
    view = talk.get(investor, conversation)
    assert (view.conversation.message_count, view.conversation.last_message_at) == (2, contact.clock())
    events = contact.published("ContactMessageCreated")
    assert [e.details["message"].author_page for e in events] == [FUND, ISV]
    assert events[0].details["conversation"].other(FUND).page == ISV


def test_unread_counts_and_read_marks_per_user(
    contact: Contact, conversation: str, investor: Principal, isv_admin: Principal
) -> None:
    talk = contact.app.conversations
    posted = [talk.create_message(investor, conversation, f"message {n}", None, "") for n in range(1, 4)]
    colleague = contact.member(ISV, "ivy", PageRole.VIEWER)
    assert talk.get(investor, conversation).unread_count == 0  # one's own messages are read
    assert talk.get(isv_admin, conversation).unread_count == 3
    marked = talk.mark_read(isv_admin, conversation, posted[1].id)
    assert (marked.unread_count, marked.read and marked.read.message) == (1, posted[1].name)
    assert talk.mark_read(isv_admin, conversation, posted[0].id).unread_count == 1  # never backward
    assert talk.get(colleague, conversation).unread_count == 3  # marks are per user
    listed, _ = talk.list_conversations(isv_admin, ISV, 10, "")
    assert [(v.conversation.id, v.unread_count) for v in listed] == [(conversation, 1)]
    talk.create_message(isv_admin, conversation, "reply", None, "")
    assert talk.get(isv_admin, conversation).unread_count == 0
    assert talk.get(investor, conversation).unread_count == 1
    other = failure(lambda: talk.mark_read(isv_admin, conversation, "unknown"))
    assert (other.code, other.reason) == (grpc.StatusCode.NOT_FOUND, "CONTACT_MESSAGE_NOT_FOUND")


def test_messages_newest_first_in_windows(contact: Contact, conversation: str, investor: Principal) -> None:
    talk = contact.app.conversations
    for n in range(5):
        talk.create_message(investor, conversation, f"m{n}", None, "")
    seen: list[int] = []
    token = ""
    while True:
        page, token = talk.list_messages(investor, conversation, 2, token)
        seen += [m.sequence for m in page]
        if not token:
            break
    assert seen == [5, 4, 3, 2, 1]


def test_outsiders_do_not_see_a_conversation_and_staff_only_read(
    contact: Contact, conversation: str, investor: Principal
) -> None:
    stranger = contact.member(OTHER_ISV, "sam")
    talk = contact.app.conversations
    assert failure(lambda: talk.get(stranger, conversation)) == NOT_FOUND
    assert failure(lambda: talk.get(investor, "unknown")) == NOT_FOUND
    assert failure(lambda: talk.list_messages(stranger, conversation, 10, "")) == NOT_FOUND
    assert failure(lambda: talk.create_message(stranger, conversation, "hi", None, "")) == NOT_FOUND
    assert failure(lambda: talk.create_message(STAFF, conversation, "hi", None, "")) == NOT_FOUND
    assert talk.get(STAFF, conversation).conversation.id == conversation
    denied = failure(lambda: talk.list_conversations(stranger, ISV, 10, ""))
    assert denied == Failure(grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")


def test_the_author_page_must_be_one_of_the_two_and_the_authors(
    contact: Contact, conversation: str, investor: Principal
) -> None:
    talk = contact.app.conversations
    refused = failure(lambda: talk.create_message(investor, conversation, "hi", OTHER_ISV, ""))
    assert refused.fields == ["message.author_page.name"]
    denied = failure(lambda: talk.create_message(investor, conversation, "hi", ISV, ""))
    assert denied == Failure(grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
    assert talk.create_message(investor, conversation, "hi", FUND, "").author_page == FUND


def test_message_sizes(contact: Contact, conversation: str, investor: Principal) -> None:
    talk = contact.app.conversations
    too_long = failure(lambda: talk.create_message(investor, conversation, "x" * (TEXT_MAX_LENGTH + 1), None, ""))
    assert (too_long.code, too_long.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["message.text"])
    assert failure(lambda: talk.create_message(investor, conversation, " \n ", None, "")).fields == ["message.text"]
    assert talk.create_message(investor, conversation, "x" * TEXT_MAX_LENGTH, None, "").sequence == 1


def test_a_request_id_posts_once(contact: Contact, conversation: str, investor: Principal) -> None:
    talk = contact.app.conversations
    first = talk.create_message(investor, conversation, "once", None, "k1")
    assert talk.create_message(investor, conversation, "once", None, "k1") == first
    assert talk.get(investor, conversation).conversation.message_count == 1


def test_a_pair_blocked_after_acceptance_stops_talking(
    contact: Contact, conversation: str, investor: Principal
) -> None:
    contact.blocks.block(ISV, FUND)
    refused = failure(lambda: contact.app.conversations.create_message(investor, conversation, "hi", None, ""))
    assert refused == Failure(grpc.StatusCode.FAILED_PRECONDITION, "BLOCKED")
    assert contact.published("ContactMessageCreated") == []


def test_a_page_lists_its_conversations(contact: Contact, conversation: str, investor: Principal) -> None:
    listed, token = contact.app.conversations.list_conversations(investor, FUND, 10, "")
    assert [v.conversation.id for v in listed] == [conversation] and token == ""
    assert contact.app.conversations.list_conversations(STAFF, OTHER_ISV, 10, "") == ([], "")

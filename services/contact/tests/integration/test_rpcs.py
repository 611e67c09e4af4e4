"""The contact service over gRPC on PostgreSQL, its neighbours as in-test gRPC doubles: the wiring of every
RPC, status mapping (codes, reasons, field violations, RetryInfo), page tokens, auth and the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from sqlalchemy import select

from contact_service.bootstrap import ContactService
from contact_service.service_layer.unit_of_work import SqlContactUnitOfWork
from devinsider.common.v1 import page_pb2
from devinsider.contact.v1 import contact_pb2, contact_pb2_grpc
from devinsider_common.grpc.status import from_rpc_error
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.neighbours import Neighbours
from devinsider_common.testing.tokens import Caller, CallerFactory

FUND, ISV, OTHER = "investors/fund-1", "companies/isv-1", "companies/isv-2"
Stub = contact_pb2_grpc.ContactServiceStub


def unlock(service: ContactService, unlocker: str, target: str) -> None:
    """What billing's UnlockCreated leaves in the projection (the consumer is tested on its own)."""
    with SqlContactUnitOfWork(service.engine) as uow:
        uow.unlocks.record(f"{unlocker}/unlocks/{uuid.uuid4()}", target, unlocker, datetime.now(UTC))
        uow.commit()


def send(
    stub: Stub, caller: Caller, target: str = ISV, sender: str = FUND, **fields: object
) -> contact_pb2.ContactRequest:
    values: dict[str, Any] = {
        "target": page_pb2.PageRef(name=target),
        "message": "Hello, we would like to talk.",
        "sender_contact": contact_pb2.ContactPerson(user=f"users/{caller.subject}"),
    }
    values.update(fields)
    request = contact_pb2.CreateContactRequestRequest(
        parent=sender, contact_request=contact_pb2.ContactRequest(**values), request_id=uuid.uuid4().hex
    )
    return stub.CreateContactRequest(request, metadata=caller.metadata)


@pytest.fixture
def victor(neighbours: Neighbours, service: ContactService, callers: CallerFactory) -> Caller:
    """FUND's owner; FUND unlocked ISV."""
    neighbours.add_member(FUND, "victor")
    unlock(service, FUND, ISV)
    return callers("victor", roles=("investor",))


@pytest.fixture
def alice(neighbours: Neighbours, callers: CallerFactory) -> Caller:
    neighbours.add_member(ISV, "alice", PageRole.ADMIN)
    return callers("alice")


def test_a_request_accepted_opens_a_conversation_with_read_marks(stub: Stub, victor: Caller, alice: Caller) -> None:
    sent = send(stub, victor)
    assert sent.name.startswith(f"{FUND}/contactRequests/")
    assert sent.state == contact_pb2.CONTACT_REQUEST_STATE_PENDING
    assert (sent.sender.kind, sent.target.kind) == (page_pb2.PAGE_KIND_INVESTOR, page_pb2.PAGE_KIND_COMPANY)
    assert (sent.sender_display_name, sent.target_display_name, sent.creator) == ("Fund-1", "Isv-1", "users/victor")
    assert sent.sender_contact.email == "victor@example.com"

    incoming = stub.ListContactRequests(
        contact_pb2.ListContactRequestsRequest(parent=ISV, direction=contact_pb2.CONTACT_REQUEST_DIRECTION_INCOMING),
        metadata=alice.metadata,
    )
    assert [r.name for r in incoming.contact_requests] == [sent.name]
    assert not incoming.contact_requests[0].HasField("sender_contact")

    accepted = stub.AcceptContactRequest(
        contact_pb2.AcceptContactRequestRequest(name=sent.name, contact_person="users/alice"), metadata=alice.metadata
    )
    assert accepted.state == contact_pb2.CONTACT_REQUEST_STATE_ACCEPTED
    assert (accepted.sender_contact.user, accepted.target_contact.user) == ("users/victor", "users/alice")
    assert accepted.HasField("decide_time") and accepted.decider == "users/alice"

    conversation = accepted.conversation
    for n in range(3):
        stub.CreateContactMessage(
            contact_pb2.CreateContactMessageRequest(
                parent=conversation, message=contact_pb2.ContactMessage(text=f"m{n}")
            ),
            metadata=victor.metadata,
        )
    first_page = stub.ListContactMessages(
        contact_pb2.ListContactMessagesRequest(parent=conversation, page_size=2), metadata=alice.metadata
    )
    assert [m.text for m in first_page.messages] == ["m2", "m1"] and first_page.next_page_token
    assert first_page.messages[0].author_page.name == FUND and first_page.messages[0].sequence == 3
    rest = stub.ListContactMessages(
        contact_pb2.ListContactMessagesRequest(parent=conversation, page_size=2, page_token=first_page.next_page_token),
        metadata=alice.metadata,
    )
    assert [m.text for m in rest.messages] == ["m0"] and rest.next_page_token == ""

    seen = stub.GetConversation(contact_pb2.GetConversationRequest(name=conversation), metadata=alice.metadata)
    assert (seen.message_count, seen.unread_count, seen.last_read_message) == (3, 3, "")
    assert [p.page.name for p in seen.participants] == [FUND, ISV]
    marked = stub.MarkConversationRead(
        contact_pb2.MarkConversationReadRequest(name=conversation, last_read_message=first_page.messages[1].name),
        metadata=alice.metadata,
    )
    assert (marked.unread_count, marked.last_read_message) == (1, first_page.messages[1].name)
    listed = stub.ListConversations(contact_pb2.ListConversationsRequest(parent=FUND), metadata=victor.metadata)
    assert [(c.name, c.unread_count) for c in listed.conversations] == [(conversation, 0)]


def test_refusals_carry_their_codes_reasons_and_details(
    stub: Stub, neighbours: Neighbours, service: ContactService, victor: Caller, alice: Caller, callers: CallerFactory
) -> None:
    not_unlocked = failure(lambda: send(stub, victor, target=OTHER))
    assert not_unlocked == Failure(grpc.StatusCode.FAILED_PRECONDITION, "CONTACT_REQUIRES_UNLOCK")
    too_long = failure(lambda: send(stub, victor, message="x" * 2001))
    assert too_long == Failure(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["contact_request.message"])
    stranger = callers("sam")
    assert failure(lambda: send(stub, stranger)) == Failure(grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")

    neighbours.block(ISV, FUND)
    assert failure(lambda: send(stub, victor)) == Failure(grpc.StatusCode.FAILED_PRECONDITION, "BLOCKED")
    neighbours.blocked.clear()

    # The rate (2 a day here): the third request of the day is refused with a retry delay.
    unlock(service, FUND, OTHER)
    send(stub, victor)
    send(stub, victor, target=OTHER)
    unlock(service, FUND, "programs/p-1")
    with pytest.raises(grpc.RpcError) as raised:
        send(stub, victor, target="programs/p-1")
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = from_rpc_error(raised.value)
    assert status is not None
    retry = error_details_pb2.RetryInfo()
    assert any(detail.Unpack(retry) for detail in status.details) and retry.retry_delay.seconds > 3600
    assert failure(lambda: send(stub, victor, target="programs/p-1")).reason == "CONTACT_REQUESTS_RATE_LIMITED"

    conversation_missing = failure(
        lambda: stub.GetConversation(
            contact_pb2.GetConversationRequest(name=f"conversations/{uuid.uuid4()}"), metadata=victor.metadata
        )
    )
    assert conversation_missing == Failure(grpc.StatusCode.NOT_FOUND, "CONVERSATION_NOT_FOUND")
    unauthenticated = failure(lambda: stub.ListPageUnlocks(contact_pb2.ListPageUnlocksRequest(parent=ISV)))
    assert unauthenticated.code == grpc.StatusCode.UNAUTHENTICATED


def test_blacklisted_users_are_refused_as_callers_and_as_contact_persons(
    stub: Stub, neighbours: Neighbours, victor: Caller, callers: CallerFactory
) -> None:
    neighbours.add_member(FUND, "banned", PageRole.VIEWER)
    neighbours.refused["banned"] = "BLACKLISTED_USER"
    refused = failure(lambda: send(stub, victor, sender_contact=contact_pb2.ContactPerson(user="users/banned")))
    assert refused == Failure(grpc.StatusCode.FAILED_PRECONDITION, "CONTACT_PERSON_REFUSED")
    neighbours.refused["victor"] = "BLACKLISTED_USER"
    assert failure(lambda: send(stub, victor)) == Failure(grpc.StatusCode.PERMISSION_DENIED, "BLACKLISTED_USER")


def test_who_unlocked_us_and_the_events_in_the_outbox(
    stub: Stub, service: ContactService, victor: Caller, alice: Caller
) -> None:
    unlocks = stub.ListPageUnlocks(contact_pb2.ListPageUnlocksRequest(parent=ISV), metadata=alice.metadata)
    assert [(u.unlocker.name, u.unlocker.kind) for u in unlocks.page_unlocks] == [(FUND, page_pb2.PAGE_KIND_INVESTOR)]
    sent = send(stub, victor)
    stub.DeclineContactRequest(
        contact_pb2.DeclineContactRequestRequest(name=sent.name, reason="not now"), metadata=alice.metadata
    )
    with service.engine.connect() as connection:
        rows = connection.execute(
            select(outbox_messages.c.exchange, outbox_messages.c.routing_key, outbox_messages.c.event_type).order_by(
                outbox_messages.c.id
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("contact.exchange.topic", "contact_request.created", "devinsider.contact.v1.ContactRequestCreated"),
        (
            "odoo_contact_request.exchange.direct",
            "odoo_contact_request_queue",
            "devinsider.contact.v1.PageContactCounters",
        ),
        (
            "odoo_contact_request.exchange.direct",
            "odoo_contact_request_queue",
            "devinsider.contact.v1.PageContactCounters",
        ),
        ("contact.exchange.topic", "contact_request.declined", "devinsider.contact.v1.ContactRequestDeclined"),
    ]

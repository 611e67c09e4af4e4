"""Domain <-> proto for the contact service's messages."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from contact_service.domain.conversations import Conversation, ConversationView, Message, Participant
from contact_service.domain.requests import ContactPerson, ContactRequest
from contact_service.domain.unlocks import PageUnlock
from devinsider.common.v1 import page_pb2
from devinsider.contact.v1 import contact_pb2
from devinsider_common.pages.names import PageName


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def page_ref(page: PageName) -> page_pb2.PageRef:
    return page_pb2.PageRef(kind=int(page.kind), name=page.name)  # type: ignore[arg-type]


def person_to_proto(person: ContactPerson | None) -> contact_pb2.ContactPerson | None:
    if person is None:
        return None
    return contact_pb2.ContactPerson(user=person.user, display_name=person.display_name, email=person.email)


def request_to_proto(request: ContactRequest) -> contact_pb2.ContactRequest:
    message = contact_pb2.ContactRequest(
        name=request.name,
        target=page_ref(request.target),
        message=request.message,
        sender_contact=person_to_proto(request.sender_contact),
        state=int(request.state),  # type: ignore[arg-type]
        sender=page_ref(request.sender),
        sender_display_name=request.sender_display_name,
        target_display_name=request.target_display_name,
        target_contact=person_to_proto(request.target_contact),
        conversation=request.conversation,
        decline_reason=request.decline_reason,
        creator=request.creator,
        decider=request.decider,
        create_time=timestamp(request.created_at),
    )
    if request.decided_at is not None:
        message.decide_time.CopyFrom(timestamp(request.decided_at))
    return message


def page_unlock_to_proto(unlock: PageUnlock) -> contact_pb2.PageUnlock:
    return contact_pb2.PageUnlock(
        unlock=unlock.unlock, unlocker=page_ref(unlock.unlocker), create_time=timestamp(unlock.created_at)
    )


def participant_to_proto(participant: Participant) -> contact_pb2.ConversationParticipant:
    return contact_pb2.ConversationParticipant(
        page=page_ref(participant.page),
        display_name=participant.display_name,
        contact_person=person_to_proto(participant.contact),
    )


def conversation_to_proto(conversation: Conversation) -> contact_pb2.Conversation:
    """The conversation without what depends on who reads it (unread count, read mark)."""
    message = contact_pb2.Conversation(
        name=conversation.name,
        participants=[participant_to_proto(conversation.first), participant_to_proto(conversation.second)],
        contact_request=conversation.contact_request,
        message_count=conversation.message_count,
        create_time=timestamp(conversation.created_at),
    )
    if conversation.last_message_at is not None:
        message.last_message_time.CopyFrom(timestamp(conversation.last_message_at))
    return message


def view_to_proto(view: ConversationView) -> contact_pb2.Conversation:
    message = conversation_to_proto(view.conversation)
    message.unread_count = view.unread_count
    message.last_read_message = view.read.message if view.read else ""
    return message


def message_to_proto(message: Message) -> contact_pb2.ContactMessage:
    return contact_pb2.ContactMessage(
        name=message.name,
        text=message.text,
        author_page=page_ref(message.author_page),
        author=message.author,
        author_display_name=message.author_name,
        sequence=message.sequence,
        create_time=timestamp(message.created_at),
    )

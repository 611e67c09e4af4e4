"""The contact service's events, written to its outbox in the caller's transaction.

Request and message events go to `contact.exchange.topic` under their routing keys
(`contact_request.created`...), for the notification service and whoever binds them; the CRM's counters
of a page go to `odoo_contact_request.exchange.direct` (its queue's name is the routing key). A request
travels as the page to notify may see it: the sender's contact person only once accepted.
"""

from __future__ import annotations

from google.protobuf.message import Message as ProtoMessage

from contact_service.adapters.proto_mapping import (
    conversation_to_proto,
    message_to_proto,
    page_ref,
    person_to_proto,
    request_to_proto,
)
from contact_service.domain.conversations import Conversation, Message
from contact_service.domain.requests import ContactRequest, excerpt
from devinsider.contact.v1 import events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter, add_direct
from devinsider_common.pages.names import PageName


class ContactEventPublisher:
    def __init__(self, outbox: OutboxWriter) -> None:
        self._outbox = outbox

    def _topic(self, routing_key: str, event: ProtoMessage, external_id: str) -> None:
        self._outbox.add(topology.CONTACT, routing_key, event, external_id=external_id)

    def request_created(self, request: ContactRequest) -> None:
        event = events_pb2.ContactRequestCreated(
            contact_request=request_to_proto(request.seen_by_target()),
            recipient=page_ref(request.target),
            message_excerpt=excerpt(request.message),
        )
        self._topic(topology.CONTACT_REQUEST_CREATED, event, request.name)

    def request_accepted(self, request: ContactRequest) -> None:
        event = events_pb2.ContactRequestAccepted(
            contact_request=request_to_proto(request),
            recipient=page_ref(request.sender),
            conversation=request.conversation,
        )
        self._topic(topology.CONTACT_REQUEST_ACCEPTED, event, request.name)

    def request_declined(self, request: ContactRequest) -> None:
        event = events_pb2.ContactRequestDeclined(
            contact_request=request_to_proto(request.seen_by_target()), recipient=page_ref(request.sender)
        )
        self._topic(topology.CONTACT_REQUEST_DECLINED, event, request.name)

    def request_withdrawn(self, request: ContactRequest) -> None:
        event = events_pb2.ContactRequestWithdrawn(
            contact_request=request_to_proto(request.seen_by_target()), recipient=page_ref(request.target)
        )
        self._topic(topology.CONTACT_REQUEST_WITHDRAWN, event, request.name)

    def message_created(self, message: Message, conversation: Conversation) -> None:
        recipient = conversation.other(message.author_page)
        event = events_pb2.ContactMessageCreated(
            message=message_to_proto(message),
            conversation=conversation_to_proto(conversation),
            recipient=page_ref(recipient.page),
            recipient_display_name=recipient.display_name,
            recipient_contact=person_to_proto(recipient.contact),
            author_page_display_name=conversation.participant(message.author_page).display_name,
            message_excerpt=excerpt(message.text),
        )
        self._topic(topology.CONTACT_MESSAGE_CREATED, event, message.name)

    def counters_changed(self, page: PageName, counters: tuple[int, int, int, int]) -> None:
        sent, sent_accepted, received, received_accepted = counters
        event = events_pb2.PageContactCounters(
            page=page_ref(page),
            contacted_count=sent,
            contacted_accepted_count=sent_accepted,
            contact_requests_received=received,
            contact_requests_accepted=received_accepted,
        )
        add_direct(self._outbox, topology.ODOO_CONTACT_REQUEST, event, page.name)

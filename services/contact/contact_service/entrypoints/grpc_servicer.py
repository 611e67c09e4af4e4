"""ContactService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

import grpc

from contact_service.adapters import proto_mapping as mapping
from contact_service.domain.requests import Direction, RequestState
from contact_service.service_layer.app import ContactApp
from devinsider.contact.v1 import contact_pb2, contact_pb2_grpc
from devinsider_common import errors
from devinsider_common.grpc.requests import caller, idempotency_key, optional_enum
from devinsider_common.pages.names import PageName, invalid_name, is_id, parse_child, parse_id, parse_page

REQUESTS = "contactRequests"


def parse_message(name: str, conversation_id: str, path: str) -> str:
    """The message id in `conversations/{conversation}/messages/{message}` of that conversation."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "conversations" or parts[2] != "messages" or not is_id(parts[3]):
        raise invalid_name(path, "`conversations/{id}/messages/{id}`")
    if parts[1] != conversation_id:
        raise errors.InvalidArgument.for_field(path, "is not a message of this conversation")
    return parts[3]


def page_ref(ref: object, path: str) -> PageName | None:
    """A PageRef field: None when absent, else its name, whose kind must agree with `kind` when given."""
    name, kind = str(getattr(ref, "name", "")), int(getattr(ref, "kind", 0))
    if not name:
        return None
    page = parse_page(name, f"{path}.name")
    if kind and kind != page.kind.value:
        raise errors.InvalidArgument.for_field(f"{path}.kind", "does not match the page's name")
    return page


class ContactServicer(contact_pb2_grpc.ContactServiceServicer):
    def __init__(self, app: ContactApp) -> None:
        self._app = app

    def CreateContactRequest(
        self, request: contact_pb2.CreateContactRequestRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ContactRequest:
        sender = parse_page(request.parent, "parent")
        body = request.contact_request
        target = page_ref(body.target, "contact_request.target")
        if target is None:
            raise errors.InvalidArgument.for_field("contact_request.target.name", "is required")
        created = self._app.requests.create(
            caller(), sender, target, body.message, body.sender_contact.user, idempotency_key(request.request_id)
        )
        return mapping.request_to_proto(created)

    def GetContactRequest(
        self, request: contact_pb2.GetContactRequestRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ContactRequest:
        sender, request_id = parse_child(request.name, REQUESTS)
        return mapping.request_to_proto(self._app.requests.get(caller(), sender, request_id))

    def ListContactRequests(
        self, request: contact_pb2.ListContactRequestsRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ListContactRequestsResponse:
        page = parse_page(request.parent, "parent")
        direction = optional_enum(Direction, request.direction, "direction")
        state = optional_enum(RequestState, request.state, "state")
        items, token = self._app.requests.list_requests(
            caller(), page, direction, state, request.page_size, request.page_token
        )
        return contact_pb2.ListContactRequestsResponse(
            contact_requests=[mapping.request_to_proto(item) for item in items], next_page_token=token
        )

    def AcceptContactRequest(
        self, request: contact_pb2.AcceptContactRequestRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ContactRequest:
        sender, request_id = parse_child(request.name, REQUESTS)
        accepted = self._app.requests.accept(caller(), sender, request_id, request.contact_person)
        return mapping.request_to_proto(accepted)

    def DeclineContactRequest(
        self, request: contact_pb2.DeclineContactRequestRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ContactRequest:
        sender, request_id = parse_child(request.name, REQUESTS)
        return mapping.request_to_proto(self._app.requests.decline(caller(), sender, request_id, request.reason))

    def WithdrawContactRequest(
        self, request: contact_pb2.WithdrawContactRequestRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ContactRequest:
        sender, request_id = parse_child(request.name, REQUESTS)
        return mapping.request_to_proto(self._app.requests.withdraw(caller(), sender, request_id))

    def ListPageUnlocks(
        self, request: contact_pb2.ListPageUnlocksRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ListPageUnlocksResponse:
        page = parse_page(request.parent, "parent")
        items, token = self._app.unlocks.list_page_unlocks(caller(), page, request.page_size, request.page_token)
        return contact_pb2.ListPageUnlocksResponse(
            page_unlocks=[mapping.page_unlock_to_proto(item) for item in items], next_page_token=token
        )

    def ListConversations(
        self, request: contact_pb2.ListConversationsRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ListConversationsResponse:
        page = parse_page(request.parent, "parent")
        views, token = self._app.conversations.list_conversations(caller(), page, request.page_size, request.page_token)
        return contact_pb2.ListConversationsResponse(
            conversations=[mapping.view_to_proto(view) for view in views], next_page_token=token
        )

    def GetConversation(
        self, request: contact_pb2.GetConversationRequest, context: grpc.ServicerContext
    ) -> contact_pb2.Conversation:
        conversation_id = parse_id(request.name, "conversations")
        return mapping.view_to_proto(self._app.conversations.get(caller(), conversation_id))

    def MarkConversationRead(
        self, request: contact_pb2.MarkConversationReadRequest, context: grpc.ServicerContext
    ) -> contact_pb2.Conversation:
        conversation_id = parse_id(request.name, "conversations")
        message_id = parse_message(request.last_read_message, conversation_id, "last_read_message")
        return mapping.view_to_proto(self._app.conversations.mark_read(caller(), conversation_id, message_id))

    def CreateContactMessage(
        self, request: contact_pb2.CreateContactMessageRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ContactMessage:
        conversation_id = parse_id(request.parent, "conversations", "parent")
        author_page = page_ref(request.message.author_page, "message.author_page")
        message = self._app.conversations.create_message(
            caller(), conversation_id, request.message.text, author_page, idempotency_key(request.request_id)
        )
        return mapping.message_to_proto(message)

    def ListContactMessages(
        self, request: contact_pb2.ListContactMessagesRequest, context: grpc.ServicerContext
    ) -> contact_pb2.ListContactMessagesResponse:
        conversation_id = parse_id(request.parent, "conversations", "parent")
        items, token = self._app.conversations.list_messages(
            caller(), conversation_id, request.page_size, request.page_token
        )
        return contact_pb2.ListContactMessagesResponse(
            messages=[mapping.message_to_proto(item) for item in items], next_page_token=token
        )

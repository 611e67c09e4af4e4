"""Conversations and their messages: read by the members of either page, written by them speaking for one.

A conversation is visible to the members (VIEW_PRIVATE) of its two pages and to staff; to anyone else it
does not exist (NOT_FOUND: a conversation is no page's, so no page permission can be named to refuse it).
Posting takes the conversation's row lock to number the message, moves the author's read mark to it, and
publishes `ContactMessageCreated` in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from contact_service.domain.conversations import (
    Conversation,
    ConversationView,
    Message,
    Participant,
    ReadMark,
    check_message_text,
    message_position,
)
from contact_service.domain.requests import ContactPerson, ContactRequest
from contact_service.service_layer.common import CANNOT_CONTACT, Clock, UowFactory
from contact_service.service_layer.ports import ContactUnitOfWork
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.authorization import BlockList, PageAuthorizer, require_not_blocked
from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.unit_of_work import create_once

VIEW = PagePermission.VIEW_PRIVATE


def open_conversation(
    uow: ContactUnitOfWork, request: ContactRequest, target_contact: ContactPerson, now: datetime
) -> Conversation:
    """The pair's conversation for an accepted `request`: a new one, or the existing one (the reverse
    request was accepted before) with the contact persons this acceptance names. Raises DuplicateRecord
    when a concurrent acceptance of the reverse request opened it first (the caller tries again)."""
    assert request.sender_contact is not None  # a stored request always has it
    found = uow.conversations.between(request.sender, request.target, lock=True)
    if found is not None:
        updated = found.with_contacts({request.sender: request.sender_contact, request.target: target_contact})
        uow.conversations.save(updated)
        return updated
    conversation = Conversation(
        new_id(),
        Participant(request.sender, request.sender_display_name, request.sender_contact),
        Participant(request.target, request.target_display_name, target_contact),
        request.name,
        now,
    )
    uow.conversations.add(conversation)
    return conversation


class ConversationUseCases:
    def __init__(
        self, uow: UowFactory, clock: Clock, auth: PageAuthorizer, blocks: BlockList, limits: ListLimits
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._auth = auth
        self._blocks = blocks
        self._limits = limits

    def _missing(self, conversation_id: str) -> errors.NotFound:
        return errors.NotFound(f"conversations/{conversation_id} does not exist", reason="CONVERSATION_NOT_FOUND")

    def _visible(self, principal: Principal, conversation_id: str) -> Conversation:
        with self._uow(read_only=True) as uow:
            found = uow.conversations.get(conversation_id)
        if found is None:
            raise self._missing(conversation_id)
        if principal.is_staff_or_service or self._auth.member_of(principal, found.pages) is not None:
            return found
        raise self._missing(conversation_id)

    def get(self, principal: Principal, conversation_id: str) -> ConversationView:
        conversation = self._visible(principal, conversation_id)
        with self._uow(read_only=True) as uow:
            return ConversationView(conversation, uow.read_marks.get(conversation_id, principal.subject))

    def list_conversations(
        self, principal: Principal, page: PageName, page_size: int, page_token: str
    ) -> tuple[list[ConversationView], str]:
        self._auth.require(principal, page, VIEW)
        window = list_window(page_size, page_token, self._limits, filters={"parent": page.name})
        with self._uow(read_only=True) as uow:
            found = uow.conversations.list_after(page, window)
            marks = uow.read_marks.of([c.id for c in found[: window.size]], principal.subject)
        views = [ConversationView(c, marks.get(c.id)) for c in found]
        return finish_window(window, views, lambda view: (view.conversation.id,))

    def mark_read(self, principal: Principal, conversation_id: str, message_id: str) -> ConversationView:
        conversation = self._visible(principal, conversation_id)
        with self._uow() as uow:
            message = uow.messages.get(conversation_id, message_id)
            if message is None:
                raise errors.NotFound(
                    f"conversations/{conversation_id}/messages/{message_id} does not exist",
                    reason="CONTACT_MESSAGE_NOT_FOUND",
                )
            mark = ReadMark(conversation_id, principal.subject, message.sequence, message.id, self._clock())
            stored = uow.read_marks.advance(mark)
            uow.commit()
        return ConversationView(conversation, stored)

    def _author_page(self, principal: Principal, conversation: Conversation, asked: PageName | None) -> PageName:
        """The page the caller speaks for: the one asked (theirs, and of the conversation), else their own."""
        if asked is None:
            page = self._auth.member_of(principal, conversation.pages)
            if page is None:
                raise self._missing(conversation.id)
            return page
        if asked not in conversation.pages:
            raise errors.InvalidArgument.for_field("message.author_page.name", "is not a page of the conversation")
        if not self._auth.allowed(principal, asked, VIEW):
            raise self._auth.page_denied(VIEW, asked.name)
        return asked

    def create_message(
        self, principal: Principal, conversation_id: str, text: str, author_page: PageName | None, request_id: str
    ) -> Message:
        with self._uow(read_only=True) as uow:
            conversation = uow.conversations.get(conversation_id)
        if conversation is None:
            raise self._missing(conversation_id)
        page = self._author_page(principal, conversation, author_page)
        check_message_text(text)
        if request_id:
            with self._uow(read_only=True) as uow:
                replayed = uow.messages.by_request(conversation_id, principal.subject, request_id)
            if replayed is not None:
                return replayed
        require_not_blocked(self._blocks, *conversation.pages, CANNOT_CONTACT)
        author, author_name = self._auth.creator(principal), self._auth.display_name(principal)

        def write() -> Message:
            now = self._clock()
            with self._uow() as uow:
                current = uow.conversations.get(conversation_id, lock=True)
                if current is None:
                    raise self._missing(conversation_id)
                message = Message(
                    new_id(),
                    conversation_id,
                    current.message_count + 1,
                    author,
                    principal.subject,
                    author_name,
                    page,
                    text,
                    now,
                    request_id or None,
                )
                uow.messages.add(message)
                posted = current.posted(now)
                uow.conversations.save(posted)
                uow.read_marks.advance(ReadMark(conversation_id, principal.subject, message.sequence, message.id, now))
                uow.events.message_created(message, posted)
                uow.commit()
            return message

        def twin() -> Message | None:
            if not request_id:
                return None
            with self._uow(read_only=True) as uow:
                return uow.messages.by_request(conversation_id, principal.subject, request_id)

        return create_once(write, twin)

    def list_messages(
        self, principal: Principal, conversation_id: str, page_size: int, page_token: str
    ) -> tuple[list[Message], str]:
        self._visible(principal, conversation_id)
        window = list_window(
            page_size, page_token, self._limits, filters={"parent": f"conversations/{conversation_id}"}
        )
        with self._uow(read_only=True) as uow:
            found = uow.messages.list_after(conversation_id, window)
        return finish_window(window, found, message_position)

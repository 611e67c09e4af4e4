"""Conversations: the thread between two pages, opened by an accepted contact request.

One conversation per unordered pair of pages (`pair_key`): a request the other way round, accepted later,
continues it with the contact persons it named. Messages are numbered in their conversation (`sequence`,
1 for the first), under the conversation's row lock, so the order is total and a read mark is a number:
a user's unread count is the messages after their mark, and posting marks one's own message read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from devinsider_common import errors
from devinsider_common.pages.names import PageName

from .requests import ContactPerson, check_text

TEXT_MAX_LENGTH = 5000


def pair_key(a: PageName, b: PageName) -> str:
    """The pair's key, the same in either order."""
    return "|".join(sorted((a.name, b.name)))


@dataclass(frozen=True)
class Participant:
    page: PageName
    display_name: str
    contact: ContactPerson


@dataclass(frozen=True)
class Conversation:
    id: str
    first: Participant  # the sender of the request that opened it
    second: Participant  # the page that request addressed
    contact_request: str  # that request's name
    created_at: datetime
    message_count: int = 0
    last_message_at: datetime | None = None

    @property
    def name(self) -> str:
        return f"conversations/{self.id}"

    @property
    def pages(self) -> tuple[PageName, PageName]:
        return self.first.page, self.second.page

    @property
    def pair_key(self) -> str:
        return pair_key(self.first.page, self.second.page)

    def participant(self, page: PageName) -> Participant:
        if page == self.first.page:
            return self.first
        if page == self.second.page:
            return self.second
        raise ValueError(f"{page.name} is not a page of {self.name}")

    def other(self, page: PageName) -> Participant:
        return self.second if page == self.first.page else self.first

    def with_contacts(self, contacts: dict[PageName, ContactPerson]) -> Conversation:
        """The contact persons a later acceptance named (pages not in `contacts` keep theirs)."""
        first = replace(self.first, contact=contacts.get(self.first.page, self.first.contact))
        second = replace(self.second, contact=contacts.get(self.second.page, self.second.contact))
        return replace(self, first=first, second=second)

    def posted(self, at: datetime) -> Conversation:
        return replace(self, message_count=self.message_count + 1, last_message_at=at)


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    sequence: int
    author: str  # `users/{id}`, or the subject when the user service does not know it
    author_subject: str
    author_name: str
    author_page: PageName
    text: str
    created_at: datetime
    request_id: str | None = None

    @property
    def name(self) -> str:
        return f"conversations/{self.conversation_id}/messages/{self.id}"


@dataclass(frozen=True)
class ReadMark:
    """How far a user has read a conversation."""

    conversation_id: str
    subject: str
    sequence: int
    message_id: str
    updated_at: datetime

    @property
    def message(self) -> str:
        return f"conversations/{self.conversation_id}/messages/{self.message_id}"


@dataclass(frozen=True)
class ConversationView:
    """A conversation as one user sees it: with their read mark."""

    conversation: Conversation
    read: ReadMark | None = None

    @property
    def unread_count(self) -> int:
        return max(0, self.conversation.message_count - (self.read.sequence if self.read else 0))


def check_message_text(text: str) -> None:
    checks = errors.Violations()
    check_text(checks, "message.text", text, TEXT_MAX_LENGTH)
    checks.raise_if_any()


def message_position(message: Message) -> tuple[int]:
    """The keyset position of a message in its conversation's list (newest first)."""
    return (message.sequence,)

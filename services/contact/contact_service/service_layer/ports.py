"""What the use cases need from the outside world, as interfaces (adapters implement them).

The unit of work (`ContactUnitOfWork`) is one transaction over the service's stores, its inbox and its
outbox: SQL in production (`service_layer.unit_of_work.SqlContactUnitOfWork`), in memory in the use-case
tests (`tests/fakes.py`). Page permissions (CheckPageAccess) and page display names (BatchGet*) are
answered by the services owning the pages, blocked pairs by the matching service (CheckBlocked), users
by the user service (GetUser, CheckUserAccess); the use cases see none of that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from contact_service.domain.conversations import Conversation, Message, ReadMark
from contact_service.domain.requests import ContactRequest, Direction, RequestState
from contact_service.domain.unlocks import PageUnlock
from devinsider_common.consumer import Inbox
from devinsider_common.pages.names import PageName
from devinsider_common.pagination import ListWindow
from devinsider_common.unit_of_work import UnitOfWork


# --- the stores of the unit of work ----------------------------------------------------------
# A `list_after` returns up to `window.size + 1` items after the window's keyset position (the
# extra one tells `finish_window` there is more). `add` raises DuplicateRecord on a unique key.
class RequestStore(Protocol):
    def get(self, sender: PageName, request_id: str, lock: bool = False) -> ContactRequest | None: ...

    def by_request(self, sender: PageName, request_id: str) -> ContactRequest | None:
        """The request `sender` sent with this idempotency key."""
        ...

    def open_between(self, sender: PageName, target: PageName) -> ContactRequest | None:
        """The pending or accepted request of the ordered pair, if any."""
        ...

    def last_declined_at(self, sender: PageName, target: PageName) -> datetime | None:
        """When the target last declined a request of the sender."""
        ...

    def sent_since(self, sender: PageName, since: datetime, limit: int) -> list[datetime]:
        """The creation times of the sender's requests after `since`, newest first, `limit` at most."""
        ...

    def add(self, request: ContactRequest) -> None:
        """DuplicateRecord for a second open request of the pair, or a request id used before."""
        ...

    def save(self, request: ContactRequest) -> None:
        """Store the request's decision (state, target contact, conversation, reason, decider, time)."""
        ...

    def list_after(
        self, page: PageName, direction: Direction, window: ListWindow, state: RequestState | None
    ) -> list[ContactRequest]:
        """The requests `page` received (INCOMING) or sent (OUTGOING), newest first."""
        ...

    def counters(self, page: PageName) -> tuple[int, int, int, int]:
        """(sent, of which accepted, received, of which accepted) for the CRM."""
        ...


class ConversationStore(Protocol):
    def get(self, conversation_id: str, lock: bool = False) -> Conversation | None: ...

    def between(self, a: PageName, b: PageName, lock: bool = False) -> Conversation | None:
        """The conversation of the pair, in either order."""
        ...

    def add(self, conversation: Conversation) -> None:
        """DuplicateRecord for a second conversation of the pair."""
        ...

    def save(self, conversation: Conversation) -> None:
        """Store its contact persons, message count and last message time."""
        ...

    def list_after(self, page: PageName, window: ListWindow) -> list[Conversation]:
        """The conversations `page` takes part in, newest first."""
        ...


class MessageStore(Protocol):
    def get(self, conversation_id: str, message_id: str) -> Message | None: ...

    def by_request(self, conversation_id: str, author_subject: str, request_id: str) -> Message | None: ...

    def add(self, message: Message) -> None:
        """DuplicateRecord for a sequence number taken, or a request id the author used before."""
        ...

    def list_after(self, conversation_id: str, window: ListWindow) -> list[Message]:
        """Newest first (by sequence)."""
        ...


class ReadMarkStore(Protocol):
    def get(self, conversation_id: str, subject: str) -> ReadMark | None: ...

    def of(self, conversation_ids: Sequence[str], subject: str) -> dict[str, ReadMark]:
        """The subject's marks of those conversations, by conversation id."""
        ...

    def advance(self, mark: ReadMark) -> ReadMark:
        """Move the subject's mark forward to `mark` (a mark further on stays); returns the stored one."""
        ...


class PageUnlockStore(Protocol):
    """The unlock projection (written by the shared UnlockProjector through `record`)."""

    def record(self, unlock: str, target_id: str, unlocker: str, created_at: datetime) -> bool: ...

    def has_unlocked(self, unlocker: PageName, target: PageName) -> bool: ...

    def list_after(self, target: PageName, window: ListWindow) -> list[PageUnlock]:
        """The unlocks of `target`, newest first."""
        ...


class ContactEvents(Protocol):
    """The service's events, written in the unit of work's transaction (the outbox)."""

    def request_created(self, request: ContactRequest) -> None: ...

    def request_accepted(self, request: ContactRequest) -> None: ...

    def request_declined(self, request: ContactRequest) -> None: ...

    def request_withdrawn(self, request: ContactRequest) -> None: ...

    def message_created(self, message: Message, conversation: Conversation) -> None: ...

    def counters_changed(self, page: PageName, counters: tuple[int, int, int, int]) -> None: ...


class ContactUnitOfWork(UnitOfWork, Protocol):
    """One transaction over the contact service's stores, its inbox and its outbox."""

    @property
    def requests(self) -> RequestStore: ...

    @property
    def conversations(self) -> ConversationStore: ...

    @property
    def messages(self) -> MessageStore: ...

    @property
    def read_marks(self) -> ReadMarkStore: ...

    @property
    def unlocks(self) -> PageUnlockStore: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def events(self) -> ContactEvents: ...


# --- other services (page access and blocks: devinsider_common.pages.authorization) ------------


class PageDirectory(Protocol):
    def display_names(self, pages: Sequence[PageName]) -> dict[PageName, str]:
        """The display names of the pages that exist (a deleted or unknown page is left out); never cached."""
        ...

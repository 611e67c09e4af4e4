"""In-memory doubles of the contact service's unit of work and of its ports (cosmicpython's fakes).

`FakeContactUnitOfWork` honours `ports.ContactUnitOfWork` on a `MemoryStore`: each store keeps frozen
domain objects in the unit of work's copy of the tables, so a commit publishes the writes and leaving
without one drops them, and the unique keys of the SQL schema raise `DuplicateRecord` as the SQL unit of
work does. Events go to an "outbox" table in the same transaction (`published(store)` reads them back).
`tests/adapters/test_repositories.py` runs the same contract on this fake and on the SQL unit of work
(PostgreSQL and SQLite): the fake stays honest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from contact_service.domain.conversations import Conversation, Message, ReadMark, pair_key
from contact_service.domain.requests import OPEN_STATES, ContactRequest, Direction, RequestState
from contact_service.domain.unlocks import PageUnlock, open_unlock_position
from devinsider_common.clock import as_utc
from devinsider_common.pages.names import PageName, parse_page
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.memory import MemoryInbox, MemoryStore, MemoryUnitOfWork, insert_unique, window_of
from devinsider_common.unit_of_work import DuplicateRecord


class MemoryRequests:
    def __init__(self, rows: dict[str, ContactRequest]) -> None:
        self._rows = rows

    def get(self, sender: PageName, request_id: str, lock: bool = False) -> ContactRequest | None:
        found = self._rows.get(request_id)
        return found if found is not None and found.sender == sender else None

    def by_request(self, sender: PageName, request_id: str) -> ContactRequest | None:
        return next((r for r in self._rows.values() if (r.sender, r.request_id) == (sender, request_id)), None)

    def open_between(self, sender: PageName, target: PageName) -> ContactRequest | None:
        return next(
            (r for r in self._rows.values() if (r.sender, r.target) == (sender, target) and r.state in OPEN_STATES),
            None,
        )

    def last_declined_at(self, sender: PageName, target: PageName) -> datetime | None:
        times = [
            r.decided_at
            for r in self._rows.values()
            if (r.sender, r.target) == (sender, target) and r.state is RequestState.DECLINED and r.decided_at
        ]
        return max(times) if times else None

    def sent_since(self, sender: PageName, since: datetime, limit: int) -> list[datetime]:
        times = sorted(r.created_at for r in self._rows.values() if r.sender == sender and r.created_at > since)
        return list(reversed(times))[:limit]

    def add(self, request: ContactRequest) -> None:
        if request.request_id is not None and self.by_request(request.sender, request.request_id):
            raise DuplicateRecord(f"request id {request.request_id!r} of {request.sender.name} was used")
        if request.state in OPEN_STATES and self.open_between(request.sender, request.target):
            raise DuplicateRecord(f"an open request of {request.sender.name} -> {request.target.name} exists")
        insert_unique(self._rows, request.id, request, "contact request")

    def save(self, request: ContactRequest) -> None:
        stored = self._rows.get(request.id)
        if stored is None:
            return
        reopened = request.state in OPEN_STATES and stored.state not in OPEN_STATES
        if reopened and self.open_between(request.sender, request.target):
            raise DuplicateRecord("an open request of the pair exists")
        self._rows[request.id] = replace(
            stored,
            state=request.state,
            target_contact=request.target_contact,
            conversation_id=request.conversation_id,
            decline_reason=request.decline_reason,
            decider=request.decider,
            decided_at=request.decided_at,
        )

    def list_after(
        self, page: PageName, direction: Direction, window: ListWindow, state: RequestState | None
    ) -> list[ContactRequest]:
        rows = [
            r
            for r in self._rows.values()
            if (r.target if direction is Direction.INCOMING else r.sender) == page
            and (state is None or r.state is state)
        ]
        return window_of(rows, window, lambda r: (r.id,), descending=True)

    def counters(self, page: PageName) -> tuple[int, int, int, int]:
        sent = [r for r in self._rows.values() if r.sender == page]
        received = [r for r in self._rows.values() if r.target == page]
        accepted = RequestState.ACCEPTED
        return (
            len(sent),
            sum(r.state is accepted for r in sent),
            len(received),
            sum(r.state is accepted for r in received),
        )


class MemoryConversations:
    def __init__(self, rows: dict[str, Conversation]) -> None:
        self._rows = rows

    def get(self, conversation_id: str, lock: bool = False) -> Conversation | None:
        return self._rows.get(conversation_id)

    def between(self, a: PageName, b: PageName, lock: bool = False) -> Conversation | None:
        return next((c for c in self._rows.values() if c.pair_key == pair_key(a, b)), None)

    def add(self, conversation: Conversation) -> None:
        if self.between(*conversation.pages):
            raise DuplicateRecord(f"the conversation of {conversation.pair_key} exists")
        insert_unique(self._rows, conversation.id, conversation, "conversation")

    def save(self, conversation: Conversation) -> None:
        stored = self._rows.get(conversation.id)
        if stored is not None:
            self._rows[conversation.id] = replace(
                stored,
                first=replace(stored.first, contact=conversation.first.contact),
                second=replace(stored.second, contact=conversation.second.contact),
                message_count=conversation.message_count,
                last_message_at=conversation.last_message_at,
            )

    def list_after(self, page: PageName, window: ListWindow) -> list[Conversation]:
        rows = [c for c in self._rows.values() if page in c.pages]
        return window_of(rows, window, lambda c: (c.id,), descending=True)


class MemoryMessages:
    def __init__(self, rows: dict[str, Message]) -> None:
        self._rows = rows

    def get(self, conversation_id: str, message_id: str) -> Message | None:
        found = self._rows.get(message_id)
        return found if found is not None and found.conversation_id == conversation_id else None

    def by_request(self, conversation_id: str, author_subject: str, request_id: str) -> Message | None:
        key = (conversation_id, author_subject, request_id)
        return next(
            (m for m in self._rows.values() if (m.conversation_id, m.author_subject, m.request_id) == key), None
        )

    def add(self, message: Message) -> None:
        for other in self._rows.values():
            if other.conversation_id != message.conversation_id:
                continue
            if other.sequence == message.sequence:
                raise DuplicateRecord(f"message {message.sequence} of the conversation exists")
            if message.request_id is not None and (other.author_subject, other.request_id) == (
                message.author_subject,
                message.request_id,
            ):
                raise DuplicateRecord(f"request id {message.request_id!r} was used")
        insert_unique(self._rows, message.id, message, "message")

    def list_after(self, conversation_id: str, window: ListWindow) -> list[Message]:
        rows = [m for m in self._rows.values() if m.conversation_id == conversation_id]
        return window_of(rows, window, lambda m: (m.sequence,), descending=True)


class MemoryReadMarks:
    def __init__(self, rows: dict[tuple[str, str], ReadMark]) -> None:
        self._rows = rows

    def get(self, conversation_id: str, subject: str) -> ReadMark | None:
        return self._rows.get((conversation_id, subject))

    def of(self, conversation_ids: Sequence[str], subject: str) -> dict[str, ReadMark]:
        return {cid: mark for cid in conversation_ids if (mark := self._rows.get((cid, subject))) is not None}

    def advance(self, mark: ReadMark) -> ReadMark:
        key = (mark.conversation_id, mark.subject)
        stored = self._rows.get(key)
        if stored is None or stored.sequence < mark.sequence:
            self._rows[key] = mark
        return self._rows[key]


class MemoryPageUnlocks:
    """The projection (the shared store's `record`, and the contact service's reads)."""

    def __init__(self, rows: dict[str, tuple[str, str, datetime]]) -> None:
        self._rows = rows  # unlock -> (target name, unlocker, created_at)

    def record(self, unlock: str, target_id: str, unlocker: str, created_at: datetime) -> bool:
        if unlock in self._rows:
            return False
        self._rows[unlock] = (target_id, unlocker, created_at)
        return True

    def has_unlocked(self, unlocker: PageName, target: PageName) -> bool:
        return any((t, u) == (target.name, unlocker.name) for t, u, _ in self._rows.values())

    def list_after(self, target: PageName, window: ListWindow) -> list[PageUnlock]:
        rows = [
            PageUnlock(unlock, target, parse_page(unlocker), as_utc(at))
            for unlock, (t, unlocker, at) in self._rows.items()
            if t == target.name
        ]
        after = open_unlock_position(window.after)
        ordered = sorted(rows, key=lambda u: (u.created_at, u.unlock), reverse=True)
        if after is not None:
            ordered = [u for u in ordered if (u.created_at, u.unlock) < after]
        return ordered[: window.size + 1]


@dataclass(frozen=True)
class Published:
    kind: str
    about: str
    details: dict[str, Any] = field(default_factory=dict)


class RecordingEvents:
    def __init__(self, outbox: dict[int, Published]) -> None:
        self._outbox = outbox

    def _record(self, kind: str, about: str, **details: Any) -> None:
        self._outbox[len(self._outbox)] = Published(kind, about, details)

    def request_created(self, request: ContactRequest) -> None:
        self._record("ContactRequestCreated", request.name, request=request)

    def request_accepted(self, request: ContactRequest) -> None:
        self._record("ContactRequestAccepted", request.name, request=request)

    def request_declined(self, request: ContactRequest) -> None:
        self._record("ContactRequestDeclined", request.name, request=request)

    def request_withdrawn(self, request: ContactRequest) -> None:
        self._record("ContactRequestWithdrawn", request.name, request=request)

    def message_created(self, message: Message, conversation: Conversation) -> None:
        self._record("ContactMessageCreated", message.name, message=message, conversation=conversation)

    def counters_changed(self, page: PageName, counters: tuple[int, int, int, int]) -> None:
        self._record("PageContactCounters", page.name, counters=counters)


class FakeContactUnitOfWork(MemoryUnitOfWork):
    requests: MemoryRequests
    conversations: MemoryConversations
    messages: MemoryMessages
    read_marks: MemoryReadMarks
    unlocks: MemoryPageUnlocks
    inbox: MemoryInbox
    events: RecordingEvents

    def _open_repositories(self) -> None:
        self.requests = MemoryRequests(self.table("contact_requests"))
        self.conversations = MemoryConversations(self.table("conversations"))
        self.messages = MemoryMessages(self.table("conversation_messages"))
        self.read_marks = MemoryReadMarks(self.table("read_marks"))
        self.unlocks = MemoryPageUnlocks(self.table("page_unlocks"))
        self.inbox = MemoryInbox(self.table("inbox"))
        self.events = RecordingEvents(self.table("outbox"))


def published(store: MemoryStore, kind: str | None = None) -> list[Published]:
    rows = store.tables.get("outbox", {})
    return [rows[key] for key in sorted(rows) if kind is None or rows[key].kind == kind]


# --- other services ---------------------------------------------------------------------------


class FakePageDirectory:
    """Every page exists, named after its id, unless `missing`."""

    def __init__(self) -> None:
        self.names: dict[PageName, str] = {}
        self.missing: set[PageName] = set()

    def display_names(self, pages: Sequence[PageName]) -> dict[PageName, str]:
        return {p: self.names.get(p, p.id.title()) for p in pages if p not in self.missing}

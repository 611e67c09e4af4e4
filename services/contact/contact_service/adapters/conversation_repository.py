"""Conversations, their messages and the users' read marks on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from contact_service.adapters.request_repository import person_of, person_values
from contact_service.adapters.tables import conversation_messages, conversations, read_marks
from contact_service.domain.conversations import Conversation, Message, Participant, ReadMark, pair_key
from devinsider_common.clock import as_utc
from devinsider_common.pages.names import PageName, parse_page
from devinsider_common.pagination import ListWindow

c, m, r = conversations.c, conversation_messages.c, read_marks.c


def _participant(row: RowMapping, prefix: str) -> Participant:
    contact = person_of(row, f"{prefix}_contact")
    assert contact is not None  # NOT NULL columns
    return Participant(parse_page(row[f"{prefix}_page"]), row[f"{prefix}_display_name"], contact)


def _conversation(row: RowMapping) -> Conversation:
    return Conversation(
        id=row["id"],
        first=_participant(row, "first"),
        second=_participant(row, "second"),
        contact_request=row["contact_request"],
        created_at=as_utc(row["created_at"]),
        message_count=int(row["message_count"]),
        last_message_at=as_utc(row["last_message_at"]) if row["last_message_at"] else None,
    )


def _participant_values(prefix: str, participant: Participant) -> dict[str, Any]:
    values = {f"{prefix}_page": participant.page.name, f"{prefix}_display_name": participant.display_name}
    return values | person_values(f"{prefix}_contact", participant.contact)


class ConversationRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _one(self, *where: Any, lock: bool = False) -> Conversation | None:
        query = select(conversations).where(*where)
        if lock:
            query = query.with_for_update()
        row = self._connection.execute(query).mappings().first()
        return _conversation(row) if row else None

    def get(self, conversation_id: str, lock: bool = False) -> Conversation | None:
        return self._one(c.id == conversation_id, lock=lock)

    def between(self, a: PageName, b: PageName, lock: bool = False) -> Conversation | None:
        return self._one(c.pair_key == pair_key(a, b), lock=lock)

    def add(self, conversation: Conversation) -> None:
        self._connection.execute(
            insert(conversations).values(
                id=conversation.id,
                pair_key=conversation.pair_key,
                **_participant_values("first", conversation.first),
                **_participant_values("second", conversation.second),
                contact_request=conversation.contact_request,
                message_count=conversation.message_count,
                last_message_at=conversation.last_message_at,
                created_at=conversation.created_at,
            )
        )

    def save(self, conversation: Conversation) -> None:
        self._connection.execute(
            update(conversations)
            .where(c.id == conversation.id)
            .values(
                **person_values("first_contact", conversation.first.contact),
                **person_values("second_contact", conversation.second.contact),
                message_count=conversation.message_count,
                last_message_at=conversation.last_message_at,
            )
        )

    def list_after(self, page: PageName, window: ListWindow) -> list[Conversation]:
        query = select(conversations).where(or_(c.first_page == page.name, c.second_page == page.name))
        if window.after is not None:
            query = query.where(c.id < str(window.after[0]))
        query = query.order_by(c.id.desc()).limit(window.size + 1)
        return [_conversation(row) for row in self._connection.execute(query).mappings()]


def _message(row: RowMapping) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        sequence=int(row["sequence"]),
        author=row["author"],
        author_subject=row["author_subject"],
        author_name=row["author_name"],
        author_page=parse_page(row["author_page"]),
        text=row["text"],
        created_at=as_utc(row["created_at"]),
        request_id=row["request_id"],
    )


class MessageRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _one(self, *where: Any) -> Message | None:
        row = self._connection.execute(select(conversation_messages).where(*where)).mappings().first()
        return _message(row) if row else None

    def get(self, conversation_id: str, message_id: str) -> Message | None:
        return self._one(m.conversation_id == conversation_id, m.id == message_id)

    def by_request(self, conversation_id: str, author_subject: str, request_id: str) -> Message | None:
        return self._one(
            m.conversation_id == conversation_id, m.author_subject == author_subject, m.request_id == request_id
        )

    def add(self, message: Message) -> None:
        self._connection.execute(
            insert(conversation_messages).values(
                id=message.id,
                conversation_id=message.conversation_id,
                sequence=message.sequence,
                author=message.author,
                author_subject=message.author_subject,
                author_name=message.author_name,
                author_page=message.author_page.name,
                text=message.text,
                request_id=message.request_id,
                created_at=message.created_at,
            )
        )

    def list_after(self, conversation_id: str, window: ListWindow) -> list[Message]:
        query = select(conversation_messages).where(m.conversation_id == conversation_id)
        if window.after is not None:
            query = query.where(m.sequence < int(window.after[0]))
        query = query.order_by(m.sequence.desc()).limit(window.size + 1)
        return [_message(row) for row in self._connection.execute(query).mappings()]


def _mark(row: RowMapping) -> ReadMark:
    return ReadMark(
        row["conversation_id"], row["subject"], int(row["sequence"]), row["message_id"], as_utc(row["updated_at"])
    )


class ReadMarkRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, conversation_id: str, subject: str) -> ReadMark | None:
        query = select(read_marks).where(r.conversation_id == conversation_id, r.subject == subject)
        row = self._connection.execute(query).mappings().first()
        return _mark(row) if row else None

    def of(self, conversation_ids: Sequence[str], subject: str) -> dict[str, ReadMark]:
        if not conversation_ids:
            return {}
        query = select(read_marks).where(r.conversation_id.in_(list(conversation_ids)), r.subject == subject)
        return {mark.conversation_id: mark for mark in map(_mark, self._connection.execute(query).mappings())}

    def advance(self, mark: ReadMark) -> ReadMark:
        """One statement: insert, or move an existing mark forward only (a later one stays)."""
        dialect: Any = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        values = {
            "conversation_id": mark.conversation_id,
            "subject": mark.subject,
            "sequence": mark.sequence,
            "message_id": mark.message_id,
            "updated_at": mark.updated_at,
        }
        statement = dialect.insert(read_marks).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[r.conversation_id, r.subject],
            set_={"sequence": mark.sequence, "message_id": mark.message_id, "updated_at": mark.updated_at},
            where=r.sequence < mark.sequence,
        )
        self._connection.execute(statement)
        stored = self.get(mark.conversation_id, mark.subject)
        assert stored is not None
        return stored

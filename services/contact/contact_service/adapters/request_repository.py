"""Contact requests on the unit of work's connection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from contact_service.adapters.tables import contact_requests
from contact_service.domain.requests import OPEN_STATES, ContactPerson, ContactRequest, Direction, RequestState
from devinsider_common.clock import as_utc
from devinsider_common.pages.names import PageName, parse_page
from devinsider_common.pagination import ListWindow

t = contact_requests.c


def person_values(prefix: str, person: ContactPerson | None) -> dict[str, str | None]:
    return {
        f"{prefix}_user": person.user if person else None,
        f"{prefix}_name": person.display_name if person else None,
        f"{prefix}_email": person.email if person else None,
    }


def person_of(row: RowMapping, prefix: str) -> ContactPerson | None:
    user = row[f"{prefix}_user"]
    return ContactPerson(user, row[f"{prefix}_name"] or "", row[f"{prefix}_email"] or "") if user else None


def _request(row: RowMapping) -> ContactRequest:
    return ContactRequest(
        id=row["id"],
        sender=parse_page(row["sender"]),
        target=parse_page(row["target"]),
        message=row["message"],
        sender_contact=person_of(row, "sender_contact"),
        sender_display_name=row["sender_display_name"],
        target_display_name=row["target_display_name"],
        creator=row["creator"],
        created_at=as_utc(row["created_at"]),
        state=RequestState(row["state"]),
        request_id=row["request_id"],
        target_contact=person_of(row, "target_contact"),
        conversation_id=row["conversation_id"] or "",
        decline_reason=row["decline_reason"] or "",
        decider=row["decider"] or "",
        decided_at=as_utc(row["decided_at"]) if row["decided_at"] else None,
    )


class RequestRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _one(self, *where: Any, lock: bool = False) -> ContactRequest | None:
        query = select(contact_requests).where(*where)
        if lock:
            query = query.with_for_update()
        row = self._connection.execute(query).mappings().first()
        return _request(row) if row else None

    def get(self, sender: PageName, request_id: str, lock: bool = False) -> ContactRequest | None:
        return self._one(t.sender == sender.name, t.id == request_id, lock=lock)

    def by_request(self, sender: PageName, request_id: str) -> ContactRequest | None:
        return self._one(t.sender == sender.name, t.request_id == request_id)

    def open_between(self, sender: PageName, target: PageName) -> ContactRequest | None:
        return self._one(t.sender == sender.name, t.target == target.name, t.state.in_([int(s) for s in OPEN_STATES]))

    def last_declined_at(self, sender: PageName, target: PageName) -> datetime | None:
        query = select(func.max(t.decided_at)).where(
            t.sender == sender.name, t.target == target.name, t.state == int(RequestState.DECLINED)
        )
        found = self._connection.execute(query).scalar()
        return as_utc(found) if found else None

    def sent_since(self, sender: PageName, since: datetime, limit: int) -> list[datetime]:
        query = (
            select(t.created_at)
            .where(t.sender == sender.name, t.created_at > since)
            .order_by(t.created_at.desc())
            .limit(limit)
        )
        return [as_utc(value) for value in self._connection.execute(query).scalars()]

    def add(self, request: ContactRequest) -> None:
        self._connection.execute(
            insert(contact_requests).values(
                id=request.id,
                sender=request.sender.name,
                target=request.target.name,
                state=int(request.state),
                message=request.message,
                sender_display_name=request.sender_display_name,
                target_display_name=request.target_display_name,
                **person_values("sender_contact", request.sender_contact),
                **person_values("target_contact", request.target_contact),
                conversation_id=request.conversation_id or None,
                decline_reason=request.decline_reason or None,
                creator=request.creator,
                decider=request.decider or None,
                request_id=request.request_id,
                created_at=request.created_at,
                decided_at=request.decided_at,
            )
        )

    def save(self, request: ContactRequest) -> None:
        self._connection.execute(
            update(contact_requests)
            .where(t.id == request.id)
            .values(
                state=int(request.state),
                **person_values("target_contact", request.target_contact),
                conversation_id=request.conversation_id or None,
                decline_reason=request.decline_reason or None,
                decider=request.decider or None,
                decided_at=request.decided_at,
            )
        )

    def list_after(
        self, page: PageName, direction: Direction, window: ListWindow, state: RequestState | None
    ) -> list[ContactRequest]:
        column = t.target if direction is Direction.INCOMING else t.sender
        query = select(contact_requests).where(column == page.name)
        if state is not None:
            query = query.where(t.state == int(state))
        if window.after is not None:
            query = query.where(t.id < str(window.after[0]))
        query = query.order_by(t.id.desc()).limit(window.size + 1)
        return [_request(row) for row in self._connection.execute(query).mappings()]

    def counters(self, page: PageName) -> tuple[int, int, int, int]:
        accepted = int(RequestState.ACCEPTED)

        def count(column: Any) -> tuple[int, int]:
            query = select(func.count(), func.count().filter(t.state == accepted)).where(column == page.name)
            total, of_which = self._connection.execute(query).one()
            return int(total), int(of_which)

        sent, sent_accepted = count(t.sender)
        received, received_accepted = count(t.target)
        return sent, sent_accepted, received, received_accepted

"""Members and invitations in a page service's database (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping, Select, Table, and_, delete, func, insert, null, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from devinsider_common.pages.model import DirectoryWindow, Invitation, InvitationState, Member, PageForViewer
from devinsider_common.pages.roles import PageRole
from devinsider_common.pages.tables import PageTables
from devinsider_common.pagination import ListWindow

P = TypeVar("P")
VIEWER_ROLE, UNLOCKERS, TOTAL = "viewer_role", "viewer_unlockers", "directory_total"  # labels no page table uses


def viewer_columns(
    page_id: ColumnElement[str], subject: str | None, tables: PageTables, unlocks: Table | None = None
) -> list[ColumnElement[Any]]:
    """The columns a page's SELECT adds for its viewer (read back by `for_viewer`), so that a page read
    with what the viewer may see of it is one statement: the viewer's role (a scalar subquery on the
    members' primary key) and, from the unlock projection `unlocks` when the service keeps one, the
    pages that unlocked it as one string (string_agg on PostgreSQL, group_concat on SQLite)."""
    if subject is None:
        return [null().label(VIEWER_ROLE), null().label(UNLOCKERS)]
    m = tables.members.c
    columns = [select(m.role).where(m.page_id == page_id, m.subject == subject).scalar_subquery().label(VIEWER_ROLE)]
    if unlocks is None:
        return [*columns, null().label(UNLOCKERS)]
    u = unlocks.c
    unlockers = select(func.aggregate_strings(u.unlocker, ",")).where(u.target_id == page_id).scalar_subquery()
    return [*columns, unlockers.label(UNLOCKERS)]


def for_viewer(row: RowMapping, page: P) -> PageForViewer[P]:
    """`page` (read from `row`) with the viewer's columns of `row` (see `viewer_columns`)."""
    role, unlockers = row[VIEWER_ROLE], row[UNLOCKERS]
    return PageForViewer(
        page,
        PageRole(role) if role is not None else None,
        tuple(sorted(set(unlockers.split(",")))) if unlockers else (),
    )


def read_directory(
    connection: Connection,
    window: Select[Any],
    matching: Select[Any],
    page_id: ColumnElement[str],
    subject: str | None,
    tables: PageTables,
    to_page: Callable[[RowMapping], P],
) -> DirectoryWindow[P]:
    """A directory window in one statement: the `window` query (the page table's rows after the keyset
    position, ordered and limited) with the viewer's role on each row (`viewer_columns`) and the total as
    an uncorrelated scalar subquery counting `matching` (the ids the filters find, without the position;
    limit it to cap the count), which the database runs once. Not `count(*) OVER ()`: that counts the rows
    after the position only, and cannot stop at a cap. An empty window has no row to carry the total, so it
    is counted apart (a second statement, for a page past the end or a directory with nothing to show)."""
    counted = select(func.count()).select_from(matching.subquery())
    rows = connection.execute(
        window.add_columns(counted.scalar_subquery().label(TOTAL), *viewer_columns(page_id, subject, tables))
    ).mappings()
    seen = []
    total: int | None = None
    for row in rows:
        seen.append(for_viewer(row, to_page(row)))
        total = int(row[TOTAL])
    if total is None:
        total = int(connection.execute(counted).scalar_one())
    return DirectoryWindow(seen, total)


def _member(row: RowMapping) -> Member:
    return Member(
        page_id=row["page_id"],
        subject=row["subject"],
        role=PageRole(row["role"]),
        user=row["user_name"],
        display_name=row["display_name"],
        email=row["email"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _invitation(row: RowMapping) -> Invitation:
    values = dict(row)
    values["role"], values["state"] = PageRole(values["role"]), InvitationState(values["state"])
    values["member_id"] = values.pop("member_subject")  # the column predates members named by user id
    return Invitation(**values)


class MemberRepository:
    def __init__(self, connection: Connection, tables: PageTables) -> None:
        self._connection = connection
        self._table = tables.members

    def get(self, page_id: str, subject: str, lock: bool = False) -> Member | None:
        t = self._table
        query = select(t).where(t.c.page_id == page_id, t.c.subject == subject)
        row = self._connection.execute(query.with_for_update() if lock else query).mappings().first()
        return _member(row) if row else None

    def find(self, page_id: str, member_id: str, lock: bool = False) -> Member | None:
        """The member named `{page}/members/{member_id}` (see Member.id)."""
        t = self._table
        named = or_(t.c.user_name == f"users/{member_id}", and_(t.c.user_name == "", t.c.subject == member_id))
        query = select(t).where(t.c.page_id == page_id, named).limit(1)
        row = self._connection.execute(query.with_for_update() if lock else query).mappings().first()
        return _member(row) if row else None

    def find_by_email(self, page_id: str, email: str) -> Member | None:
        t = self._table
        query = select(t).where(t.c.page_id == page_id, func.lower(t.c.email) == email.lower()).limit(1)
        row = self._connection.execute(query).mappings().first()
        return _member(row) if row else None

    def add(self, member: Member) -> None:
        self._connection.execute(insert(self._table).values(**self._row(member)))

    def save(self, member: Member) -> None:
        t = self._table
        self._connection.execute(
            update(t).where(t.c.page_id == member.page_id, t.c.subject == member.subject).values(**self._row(member))
        )

    def remove(self, page_id: str, subject: str) -> None:
        t = self._table
        self._connection.execute(delete(t).where(t.c.page_id == page_id, t.c.subject == subject))

    def owner_count(self, page_id: str, lock: bool = False) -> int:
        """Owners of the page; with `lock`, their rows are locked so two demotions cannot race."""
        t = self._table
        query = select(t.c.subject).where(t.c.page_id == page_id, t.c.role == int(PageRole.OWNER))
        return len(self._connection.execute(query.with_for_update() if lock else query).all())

    def count(self, page_id: str) -> int:
        """Members of the page (the seats they take)."""
        t = self._table
        return int(self._connection.execute(select(func.count()).where(t.c.page_id == page_id)).scalar_one())

    def list_after(self, page_id: str, window: ListWindow, role: PageRole | None = None) -> list[Member]:
        t = self._table
        query = select(t).where(t.c.page_id == page_id).order_by(t.c.subject).limit(window.size + 1)
        if role is not None:
            query = query.where(t.c.role == int(role))
        if window.after:
            query = query.where(t.c.subject > str(window.after[0]))
        return [_member(row) for row in self._connection.execute(query).mappings()]

    def role_on(self, page_id: str, subject: str, page: Select[Any]) -> PageRole | None:
        """The member's role, provided `page` (the live page's query) finds a row: one statement."""
        t = self._table
        query = select(t.c.role).where(t.c.page_id == page_id, t.c.subject == subject, page.exists())
        role = self._connection.execute(query).scalar()
        return PageRole(role) if role is not None else None

    def pages_of(self, subject: str) -> list[Member]:
        t = self._table
        return [_member(r) for r in self._connection.execute(select(t).where(t.c.subject == subject)).mappings()]

    @staticmethod
    def _row(member: Member) -> dict[str, Any]:
        return {
            "page_id": member.page_id,
            "subject": member.subject,
            "role": int(member.role),
            "user_name": member.user,
            "display_name": member.display_name,
            "email": member.email,
            "created_at": member.created_at,
            "updated_at": member.updated_at,
        }


class InvitationRepository:
    def __init__(self, connection: Connection, tables: PageTables) -> None:
        self._connection = connection
        self._table = tables.invitations

    def add(self, invitation: Invitation) -> None:
        values = dict(invitation.__dict__) | {"role": int(invitation.role), "state": int(invitation.state)}
        values["member_subject"] = values.pop("member_id")
        self._connection.execute(insert(self._table).values(**values))

    def get(self, invitation_id: str, lock: bool = False) -> Invitation | None:
        query = select(self._table).where(self._table.c.id == invitation_id)
        row = self._connection.execute(query.with_for_update() if lock else query).mappings().first()
        return _invitation(row) if row else None

    def pending_for(self, page_id: str, email: str) -> Invitation | None:
        t = self._table
        query = select(t).where(t.c.page_id == page_id, t.c.email == email, t.c.state == int(InvitationState.PENDING))
        row = self._connection.execute(query).mappings().first()
        return _invitation(row) if row else None

    def pending_to(self, email: str) -> list[Invitation]:
        t = self._table
        query = select(t).where(t.c.email == email, t.c.state == int(InvitationState.PENDING)).order_by(t.c.id)
        return [_invitation(row) for row in self._connection.execute(query).mappings()]

    def save_state(self, invitation: Invitation) -> None:
        t = self._table
        self._connection.execute(
            update(t)
            .where(t.c.id == invitation.id)
            .values(state=int(invitation.state), closed_at=invitation.closed_at, member_subject=invitation.member_id)
        )

    def pending_count(self, page_id: str, now: datetime) -> int:
        """The page's pending invitations not yet expired at `now` (the seats they hold)."""
        t = self._table
        pending = and_(t.c.page_id == page_id, t.c.state == int(InvitationState.PENDING), t.c.expires_at > now)
        return int(self._connection.execute(select(func.count()).where(pending)).scalar_one())

    def created_since(self, page_id: str, since: datetime, limit: int) -> list[datetime]:
        """Creation times of the page's invitations after `since`, newest first (the rate limit)."""
        t = self._table
        query = (
            select(t.c.created_at)
            .where(t.c.page_id == page_id, t.c.created_at > since)
            .order_by(t.c.created_at.desc())
            .limit(limit)
        )
        return list(self._connection.execute(query).scalars())

    def list_after(
        self,
        window: ListWindow,
        *,
        page_id: str | None = None,
        email: str | None = None,
        state: InvitationState | None = None,
    ) -> list[Invitation]:
        t = self._table
        query = select(t).order_by(t.c.id.desc()).limit(window.size + 1)  # newest first (UUIDv7 ids)
        if page_id is not None:
            query = query.where(t.c.page_id == page_id)
        if email is not None:
            query = query.where(func.lower(t.c.email) == email.lower())
        if state is not None:
            query = query.where(t.c.state == int(state))
        if window.after:
            query = query.where(t.c.id < str(window.after[0]))
        return [_invitation(row) for row in self._connection.execute(query).mappings()]

    def due_for_expiry(self, now: datetime, limit: int) -> list[str]:
        t = self._table
        query = (
            select(t.c.id)
            .where(t.c.state == int(InvitationState.PENDING), t.c.expires_at <= now)
            .order_by(t.c.expires_at)
            .limit(limit)
        )
        return list(self._connection.execute(query).scalars())

"""The projections of other services' facts: memberships, known users, page titles. Each row holds as of
the event that last changed it; an older event changes nothing (a retry, an event overtaken by another)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from devinsider_common.clock import as_utc
from devinsider_common.pages.names import parse_page
from devinsider_common.pages.roles import PageRole
from notification_service.adapters.tables import known_users, memberships, page_titles
from notification_service.domain.facts import MemberChanged, PageChanged, UserChanged
from notification_service.domain.notifications import KnownUser, Membership


def upsert_newer(connection: Connection, table: Table, key: dict[str, str], values: dict[str, Any]) -> bool:
    """Insert or update the row of `key` with `values` (which carry `as_of`) unless the stored row holds
    as of a later time; True when written."""
    where = [table.c[name] == value for name, value in key.items()]
    stored = connection.execute(select(table.c.as_of).where(*where).with_for_update()).first()
    if stored is None:
        connection.execute(insert(table).values(**key, **values))
        return True
    if as_utc(stored.as_of) > as_utc(values["as_of"]):
        return False
    connection.execute(update(table).where(*where).values(**values))
    return True


class MembershipRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def apply(self, change: MemberChanged) -> bool:
        removed = change.role is None
        values = {
            "subject": change.subject,
            "role": None if removed else int(change.role),  # type: ignore[arg-type]
            "email": "" if removed else change.email.lower(),
            "display_name": "" if removed else change.display_name,
            "as_of": change.at,
        }
        return upsert_newer(self._connection, memberships, {"page": change.page.name, "member": change.member}, values)

    def members_of(self, page: str, roles: frozenset[PageRole] | None = None) -> list[Membership]:
        query = select(memberships).where(memberships.c.page == page, memberships.c.role.is_not(None))
        if roles is not None:
            query = query.where(memberships.c.role.in_(sorted(int(r) for r in roles)))
        return [_membership(row) for row in self._connection.execute(query.order_by(memberships.c.member)).mappings()]

    def of_member(self, member: str) -> list[Membership]:
        query = select(memberships).where(memberships.c.member == member, memberships.c.role.is_not(None))
        return [_membership(row) for row in self._connection.execute(query.order_by(memberships.c.page)).mappings()]

    def forget(self, members: set[str]) -> int:
        result = self._connection.execute(delete(memberships).where(memberships.c.member.in_(sorted(members))))
        return int(result.rowcount or 0)


def _membership(row: Any) -> Membership:
    page = parse_page(row["page"], "page")
    return Membership(page, row["member"], row["subject"], PageRole(row["role"]), row["email"], row["display_name"])


class KnownUserRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def apply(self, change: UserChanged) -> bool:
        values = {
            "subject": change.subject,
            "email": change.email.lower(),
            "display_name": change.display_name,
            "as_of": change.at,
        }
        return upsert_newer(self._connection, known_users, {"user": change.user}, values)

    def get(self, user: str) -> KnownUser | None:
        row = self._connection.execute(select(known_users).where(known_users.c.user == user)).mappings().first()
        return _user(row) if row is not None else None

    def find_by_email(self, email: str) -> KnownUser | None:
        query = select(known_users).where(known_users.c.email == email.lower()).order_by(known_users.c.user).limit(1)
        row = self._connection.execute(query).mappings().first()
        return _user(row) if row is not None else None

    def forget(self, users: set[str]) -> int:
        result = self._connection.execute(delete(known_users).where(known_users.c.user.in_(sorted(users))))
        return int(result.rowcount or 0)


def _user(row: Any) -> KnownUser:
    return KnownUser(row["user"], row["subject"], row["email"], row["display_name"])


class PageTitleRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def apply(self, change: PageChanged) -> bool:
        display_name = "" if change.deleted else change.display_name[:200]  # a deletion names the page only
        values = {"display_name": display_name, "deleted": change.deleted, "as_of": change.at}
        return upsert_newer(self._connection, page_titles, {"page": change.page.name}, values)

    def title(self, page: str) -> str:
        query = select(page_titles.c.display_name).where(page_titles.c.page == page, page_titles.c.deleted.is_(False))
        return str(self._connection.execute(query).scalar() or "")

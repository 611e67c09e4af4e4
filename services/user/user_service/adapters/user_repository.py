"""Users in PostgreSQL/SQLite: row <-> domain mapping, optimistic versioning, keyset windows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from devinsider_common import errors
from devinsider_common.pagination import ListWindow
from user_service.adapters.tables import users
from user_service.domain.model import ContactCategory, Profile, User, UserState


def _to_user(row: RowMapping) -> User:
    return User(
        id=row["id"],
        subject=row["subject"],
        email=row["email"],
        profile=Profile(
            given_name=row["given_name"],
            family_name=row["family_name"],
            job_title=row["job_title"],
            country_code=row["country_code"],
            phone_number=row["phone_number"],
            linkedin_url=row["linkedin_url"],
            biography=row["biography"],
            contact_category=ContactCategory(row["contact_category"]),
        ),
        roles=tuple(r for r in row["roles"].split(",") if r),
        verified_pro=row["verified_pro"],
        state=UserState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        last_event_at=row["last_event_at"],
        email_verified=row["email_verified"],
        last_login_at=row["last_login_at"],
        disabled=row["disabled"],
    )


def _to_row(user: User) -> dict[str, Any]:
    profile = user.profile
    return {
        "id": user.id,
        "subject": user.subject,
        "email": user.email,
        "given_name": profile.given_name,
        "family_name": profile.family_name,
        "job_title": profile.job_title,
        "country_code": profile.country_code,
        "phone_number": profile.phone_number,
        "linkedin_url": profile.linkedin_url,
        "biography": profile.biography,
        "contact_category": int(profile.contact_category),
        "roles": ",".join(user.roles),
        "verified_pro": user.verified_pro,
        "state": user.state.value,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_event_at": user.last_event_at,
        "version": user.version,
        "email_verified": user.email_verified,
        "last_login_at": user.last_login_at,
        "disabled": user.disabled,
    }


class UserRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _one(self, *where: Any, lock: bool = False) -> User | None:
        query = select(users).where(*where)
        if lock:
            query = query.with_for_update()
        row = self._connection.execute(query).mappings().first()
        return _to_user(row) if row else None

    def get(self, user_id: str) -> User | None:
        return self._one(users.c.id == user_id)

    def get_by_subject(self, subject: str, lock: bool = False) -> User | None:
        return self._one(users.c.subject == subject, lock=lock)

    def add(self, user: User) -> None:
        self._connection.execute(insert(users).values(**_to_row(user)))

    def save(self, user: User) -> User:
        """Write `user` if nobody changed it since it was read (its version), bumping the version."""
        saved = replace(user, version=user.version + 1)
        result = self._connection.execute(
            update(users).where(users.c.id == user.id, users.c.version == user.version).values(**_to_row(saved))
        )
        if result.rowcount != 1:
            raise errors.Conflict(f"{user.name} changed concurrently; retry", reason="CONCURRENT_UPDATE")
        return saved

    def list_after(self, window: ListWindow, email_suffix: str, state: UserState | None) -> list[User]:
        """Users oldest first (ids are UUIDv7), `window.size + 1` at most (the extra one: a next window exists)."""
        query = select(users).order_by(users.c.id).limit(window.size + 1)
        if email_suffix:
            query = query.where(func.lower(users.c.email).endswith(email_suffix.lower(), autoescape=True))
        if state is not None:
            query = query.where(users.c.state == state.value)
        if window.after:
            query = query.where(users.c.id > str(window.after[0]))
        return [_to_user(row) for row in self._connection.execute(query).mappings()]

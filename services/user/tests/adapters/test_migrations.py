"""The user service's revisions on PostgreSQL and SQLite: users stored before a revision read back after it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import column, insert, table

from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine
from user_service.bootstrap import MIGRATIONS
from user_service.service_layer.unit_of_work import SqlUserUnitOfWork

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_users_stored_before_0002_are_unverified_never_signed_in_and_enabled(each_database: tuple[str, str]) -> None:
    url, schema = each_database
    engine = create_service_engine(url, schema)
    try:
        migrations.upgrade(engine, schema, MIGRATIONS, revision="0001")
        row = {
            "id": "u1",
            "subject": "kc-1",
            "email": "ada@acme.io",
            **dict.fromkeys(("given_name", "family_name", "job_title", "country_code", "phone_number"), ""),
            **dict.fromkeys(("linkedin_url", "biography", "roles"), ""),
            "contact_category": 0,
            "verified_pro": False,
            "state": "active",
            "created_at": NOW,
            "updated_at": NOW,
            "version": 1,
        }
        with engine.begin() as connection:  # the columns of 0001 only
            connection.execute(insert(table("users", *(column(name) for name in row))).values(**row))
        migrations.upgrade(engine, schema, MIGRATIONS)
        with SqlUserUnitOfWork(engine) as uow:
            user = uow.users.get("u1")
        assert user is not None and (user.email, user.email_verified, user.last_login_at, user.disabled) == (
            "ada@acme.io",
            False,
            None,
            False,
        )
        migrations.downgrade(engine, MIGRATIONS, "0001")
        migrations.upgrade(engine, schema, MIGRATIONS)
    finally:
        engine.dispose()

"""The contract of the user service's unit of work and repositories (`service_layer.ports`), run on
the in-memory fake of the use-case tests and on the SQL unit of work over PostgreSQL and SQLite
(each_database's two, migrated once per module and emptied before each test): the same assertions
on all three keep the fake honest."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine

from devinsider_common import errors
from devinsider_common.clock import as_utc
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.fixtures import fresh_pg_schema, migrated_engine
from devinsider_common.unit_of_work import DuplicateRecord
from user_service.adapters.tables import metadata
from user_service.bootstrap import MIGRATIONS
from user_service.domain.blacklist import BlacklistEntry, BlacklistKind
from user_service.domain.model import ContactCategory, Profile, User, UserState
from user_service.domain.requests import ProVerification, ProVerificationState, SupportRequest
from user_service.service_layer.ports import UowFactory
from user_service.service_layer.unit_of_work import SqlUserUnitOfWork

from ..fakes import FakeStore, FakeUserUnitOfWork

T = TypeVar("T")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    """The module's migrated databases: each_database's two, PostgreSQL and SQLite."""
    sqlite = f"sqlite+pysqlite:///{tmp_path_factory.mktemp('user') / 'user.sqlite3'}"
    with (
        fresh_pg_schema() as postgres,
        migrated_engine(postgres, MIGRATIONS) as on_postgres,
        migrated_engine((sqlite, "user"), MIGRATIONS) as on_sqlite,
    ):
        yield {"postgres": on_postgres, "sqlite": on_sqlite}


@pytest.fixture(params=["memory", "postgres", "sqlite"])
def uow(request: pytest.FixtureRequest) -> UowFactory:
    """A unit-of-work factory on an empty store: the fake, or the SQL one (its tables emptied)."""
    if request.param == "memory":
        store = FakeStore()
        return partial(FakeUserUnitOfWork, store)
    engine: Engine = request.getfixturevalue("engines")[request.param]
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    return partial(SqlUserUnitOfWork, engine)


def utc(item: T) -> T:
    """`item` with its datetimes in UTC (SQLite gives back naive UTC datetimes)."""
    changes = {
        f.name: as_utc(value)
        for f in dataclasses.fields(item)  # type: ignore[arg-type]
        if isinstance(value := getattr(item, f.name), datetime)
    }
    return dataclasses.replace(item, **changes)  # type: ignore[type-var]


def _user(n: int, **fields: Any) -> User:
    values: dict[str, Any] = {
        "id": f"0190f0a0-0000-7000-8000-{n:012d}",
        "subject": f"kc-{n}",
        "email": f"user{n}@acme.io",
        "profile": Profile(given_name="Ada"),
        "created_at": NOW,
        "updated_at": NOW,
    }
    return User(**(values | fields))


def _add(uow: UowFactory, write: Callable[[Any], object]) -> None:
    with uow() as u:
        write(u)
        u.commit()


def test_a_user_reads_back_as_written(uow: UowFactory) -> None:
    profile = Profile(
        given_name="Ada",
        family_name="Lovelace",
        job_title="CTO",
        country_code="FR",
        phone_number="+33612345678",
        linkedin_url="https://linkedin.com/in/ada",
        biography="Notes",
        contact_category=ContactCategory.PARTNER_PROGRAM,
    )
    ada = _user(
        1,
        profile=profile,
        roles=("admin", "isv"),
        verified_pro=True,
        last_event_at=NOW,
        email_verified=True,
        last_login_at=NOW - timedelta(minutes=1),
        disabled=True,
    )
    _add(uow, lambda u: u.users.add(ada))
    with uow() as u:
        by_id, by_subject = u.users.get(ada.id), u.users.get_by_subject("kc-1", lock=True)
        assert u.users.get("missing") is None and u.users.get_by_subject("kc-missing") is None
    assert by_id is not None and utc(by_id) == ada == utc(by_subject)
    assert by_id.last_event_at is not None and as_utc(by_id.last_event_at) == NOW  # (not compared by ==)
    assert (by_id.email_verified, utc(by_id).last_login_at, by_id.disabled) == (True, NOW - timedelta(minutes=1), True)
    bob = _user(2)
    _add(uow, lambda u: u.users.add(bob))
    with uow() as u:
        stored = u.users.get(bob.id)
    assert stored is not None and (stored.email_verified, stored.last_login_at, stored.disabled) == (False, None, False)


def test_what_is_not_committed_is_not_stored(uow: UowFactory) -> None:
    with uow() as u:
        u.users.add(_user(1))
        u.blacklist.add(BlacklistEntry("b1", BlacklistKind.USER, "kc-1", created_at=NOW))
    with uow() as u:
        u.users.add(_user(2))
        u.rollback()
        u.users.add(_user(3))
        u.commit()
    with uow() as u:
        assert [x.id for x in u.users.list_after(ListWindow(10), "", None)] == [_user(3).id]
        assert u.blacklist.get("b1") is None


def test_a_second_user_of_a_subject_is_a_duplicate_even_from_a_concurrent_unit_of_work(uow: UowFactory) -> None:
    _add(uow, lambda u: u.users.add(_user(1)))
    with pytest.raises(DuplicateRecord), uow() as u:
        u.users.add(_user(2, subject="kc-1"))
        u.commit()
    with pytest.raises(DuplicateRecord), uow() as racing:
        _add(uow, lambda u: u.users.add(_user(3)))  # commits while `racing` is open
        racing.users.add(_user(4, subject="kc-3"))
        racing.commit()
    with uow() as u:
        assert [x.subject for x in u.users.list_after(ListWindow(10), "", None)] == ["kc-1", "kc-3"]


def test_save_bumps_the_version_and_refuses_a_stale_one(uow: UowFactory) -> None:
    ada = _user(1)
    _add(uow, lambda u: u.users.add(ada))
    with uow() as u:
        saved = u.users.save(dataclasses.replace(ada, state=UserState.DELETED, verified_pro=True))
        u.commit()
    assert saved.version == ada.version + 1
    with uow() as u:
        assert utc(u.users.get(ada.id)) == saved
        with pytest.raises(errors.Conflict) as stale:
            u.users.save(ada)  # read before the save above
    assert stale.value.reason == "CONCURRENT_UPDATE"


def test_users_are_listed_by_id_in_windows_and_filtered(uow: UowFactory) -> None:
    users = [
        _user(3, email="c@acme.io"),
        _user(1, email="A@ACME.IO"),
        _user(2, email="b@other.io", state=UserState.DELETED),
        _user(4, email="d@xacme.io"),
        _user(5, email="e@a_me.io"),
    ]
    _add(uow, lambda u: [u.users.add(x) for x in users])
    with uow() as u:
        first = u.users.list_after(ListWindow(2), "", None)
        after = u.users.list_after(ListWindow(2, after=(first[1].id,)), "", None)
        acme = u.users.list_after(ListWindow(10), "@acme.io", None)
        like = u.users.list_after(ListWindow(10), "@a_me.io", None)
        deleted = u.users.list_after(ListWindow(10), "", UserState.DELETED)
    assert [x.subject for x in first] == ["kc-1", "kc-2", "kc-3"]  # one more than the window: there is a next
    assert [x.subject for x in after] == ["kc-3", "kc-4", "kc-5"]
    assert [x.subject for x in acme] == ["kc-1", "kc-3"]  # any case; `xacme.io` is not `@acme.io`
    assert [x.subject for x in like] == ["kc-5"]  # `_` is a character, not a wildcard
    assert [x.subject for x in deleted] == ["kc-2"]


def _pro(n: int, user_id: str = "u1", key: str = "", **fields: Any) -> ProVerification:
    return ProVerification(
        id=f"0190f0a0-0000-7000-8000-{n:012d}",
        user_id=user_id,
        work_email="ada@acme.io",
        company_name="Acme",
        created_at=NOW,
        idempotency_key=key,
        **fields,
    )


def test_pro_verifications(uow: UowFactory) -> None:
    rejected = ProVerificationState.REJECTED
    first = _pro(1, key="k1", evidence_url="https://acme.io", message="hi")
    old = _pro(2, state=rejected, reviewer="users/x", rejection_reason="no", decided_at=NOW)
    _add(uow, lambda u: [u.pro_verifications.add(x) for x in (first, old, _pro(3, "u2", key="k1"))])
    for twin in (_pro(5, key="k1", state=rejected), _pro(6)):  # the user's key; the user's one pending request
        with pytest.raises(DuplicateRecord), uow() as u:
            u.pro_verifications.add(twin)
    with uow() as u:
        assert utc(u.pro_verifications.get(first.id, lock=True)) == first
        assert utc(u.pro_verifications.get(old.id)) == old
        assert u.pro_verifications.get("missing") is None
        assert utc(u.pro_verifications.find("u1", "k1")) == first
        assert utc(u.pro_verifications.find("u1", pending=True)) == first
        assert u.pro_verifications.find("u1", "k9") is None and u.pro_verifications.find("u3", pending=True) is None
        decided = dataclasses.replace(
            first, state=rejected, reviewer="users/y", rejection_reason="late", decided_at=NOW
        )
        u.pro_verifications.save_decision(dataclasses.replace(decided, company_name="ignored"))
        u.pro_verifications.add(_pro(4))  # pending again, now that the first is decided
        u.commit()
    with uow() as u:
        assert utc(u.pro_verifications.get(first.id)) == decided
        assert utc(u.pro_verifications.find("u1", pending=True)) == _pro(4)
        mine = u.pro_verifications.list_after(ListWindow(1), "u1", None)
        rest = u.pro_verifications.list_after(ListWindow(5, after=(mine[0].id,)), "u1", rejected)
        pending = u.pro_verifications.list_after(ListWindow(5), None, ProVerificationState.PENDING)
    assert [x.id for x in mine] == [first.id, old.id] and [x.id for x in rest] == [old.id]
    assert [x.id for x in pending] == [_pro(3).id, _pro(4).id]


def _help(n: int, user_id: str = "u1", key: str = "", at: datetime = NOW) -> SupportRequest:
    return SupportRequest(f"0190f0a0-0000-7000-8000-{n:012d}", user_id, "Help", "Broken", at, key)


def test_support_requests(uow: UowFactory) -> None:
    hour = timedelta(hours=1)
    requests = [_help(1, key="r1", at=NOW - 2 * hour), _help(2, at=NOW - hour), _help(3, at=NOW), _help(4, "u2")]
    _add(uow, lambda u: [u.support_requests.add(x) for x in requests])
    with pytest.raises(DuplicateRecord), uow() as u:
        u.support_requests.add(_help(5, key="r1"))
    with uow() as u:
        assert utc(u.support_requests.find("u1", "r1")) == requests[0]
        assert u.support_requests.find("u2", "r1") is None
        since = [as_utc(t) for t in u.support_requests.created_since("u1", NOW - 2 * hour, 5)]
        limited = u.support_requests.created_since("u1", NOW - 3 * hour, 2)
        window = u.support_requests.list_after(ListWindow(2))
        rest = u.support_requests.list_after(ListWindow(2, after=(window[1].id,)))
    assert since == [NOW, NOW - hour]  # after `since`, newest first
    assert [as_utc(t) for t in limited] == [NOW, NOW - hour]
    assert [utc(x) for x in window] == requests[:3] and [x.id for x in rest] == [requests[2].id, requests[3].id]


def test_blacklist(uow: UowFactory) -> None:
    entries = [
        BlacklistEntry("0190f0a0-0000-7000-8000-000000000001", BlacklistKind.USER, "kc-1", "abuse", "kc-staff", NOW),
        BlacklistEntry("0190f0a0-0000-7000-8000-000000000002", BlacklistKind.EMAIL_DOMAIN, "spam.example", "", "", NOW),
        BlacklistEntry("0190f0a0-0000-7000-8000-000000000003", BlacklistKind.USER, "kc-2", "", "", NOW),
    ]
    _add(uow, lambda u: [u.blacklist.add(x) for x in entries])
    with pytest.raises(DuplicateRecord), uow() as u:
        u.blacklist.add(
            BlacklistEntry("0190f0a0-0000-7000-8000-000000000009", BlacklistKind.USER, "kc-1", created_at=NOW)
        )
    with uow() as u:
        assert utc(u.blacklist.find(BlacklistKind.USER, "kc-1")) == entries[0]
        assert u.blacklist.find(BlacklistKind.EMAIL_DOMAIN, "kc-1") is None
        assert utc(u.blacklist.get(entries[1].id)) == entries[1]
        assert u.blacklist.matching(BlacklistKind.USER, {"kc-1", "kc-2", "kc-3", "spam.example"}) == {"kc-1", "kc-2"}
        assert u.blacklist.matching(BlacklistKind.EMAIL_DOMAIN, set()) == set()
        users = u.blacklist.list_after(ListWindow(1), BlacklistKind.USER)
        assert [x.id for x in users] == [entries[0].id, entries[2].id]
        assert [x.id for x in u.blacklist.list_after(ListWindow(5, after=(entries[0].id,)), None)] == [
            entries[1].id,
            entries[2].id,
        ]
        u.blacklist.remove(entries[0].id)
        u.blacklist.remove("missing")
        u.commit()
    with uow() as u:
        assert u.blacklist.get(entries[0].id) is None and u.blacklist.matching(BlacklistKind.USER, {"kc-1"}) == set()


def test_a_keycloak_event_is_recorded_once_and_a_replay_leaves_the_unit_of_work_usable(uow: UowFactory) -> None:
    with uow() as u:
        assert u.keycloak_events.record("e1", "REGISTER", NOW)
        assert not u.keycloak_events.record("e1", "REGISTER", NOW)  # the same delivery, twice
        u.users.add(_user(1))  # still writable after the refused insert
        u.commit()
    with uow() as u:
        assert not u.keycloak_events.record("e1", "REGISTER", NOW)
        assert u.keycloak_events.record("e2", "LOGIN", NOW)
        assert u.users.get(_user(1).id) is not None
        u.users.add(_user(2))
        u.commit()
    with uow() as u:
        assert [x.subject for x in u.users.list_after(ListWindow(5), "", None)] == ["kc-1", "kc-2"]
        assert not u.keycloak_events.record("e2", "LOGIN", NOW)

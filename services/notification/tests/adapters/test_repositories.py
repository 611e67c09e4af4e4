"""The contract of the notification service's unit of work and stores, with the same assertions on the
in-memory fake (`tests/fakes.py`, what the use-case tests run on) and on the SQL unit of work on
PostgreSQL and SQLite: orderings, keyset windows, newest-event-wins projections, keys, commit and rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from types import MappingProxyType

import pytest
from sqlalchemy import Engine, select

from devinsider.common.v1.mail_pb2 import MailRequested
from devinsider_common.clock import as_utc
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.roles import PageRole
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.fixtures import migrated_engine
from devinsider_common.testing.memory import MemoryStore
from devinsider_common.unit_of_work import DuplicateRecord
from notification_service.bootstrap import MIGRATIONS
from notification_service.domain.digest import DigestItem
from notification_service.domain.facts import MemberChanged, PageChanged, UserChanged
from notification_service.domain.notifications import KnownUser, Notification
from notification_service.domain.preferences import Category, Channels, DigestFrequency, Preferences
from notification_service.service_layer.ports import NotificationUnitOfWork
from notification_service.service_layer.unit_of_work import SqlNotificationUnitOfWork

from ..fakes import FakeNotificationUnitOfWork, mails

UowFactory = Callable[..., NotificationUnitOfWork]
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
ACME = PageName(PageKind.COMPANY, "acme")
FUND = PageName(PageKind.INVESTOR, "fund")


def ident(n: int) -> str:
    """Ids in the order of `n` (as UUIDv7 ids are in the order they are made)."""
    return f"00000000-0000-7000-8000-{n:012d}"


def notification(
    n: int, recipient: str = "ada", category: Category = Category.UNLOCKS, at: datetime = NOW
) -> Notification:
    return Notification(
        ident(n), recipient, category, "unlock.received", f"title {n}", "body", ACME.name, FUND.name, {"n": str(n)}, at
    )


def member(
    user: str, role: PageRole | None = PageRole.OWNER, at: datetime = NOW, page: PageName = ACME
) -> MemberChanged:
    return MemberChanged(page, user, f"kc-{user}", role, f"{user.title()}@Example.com", user.title(), at)


class Contract:
    """The assertions; the subclasses give the `uow` factory."""

    def test_notifications_newest_first_in_windows_with_filters_and_the_unread_count(self, uow: UowFactory) -> None:
        with uow() as u:
            for n in range(1, 5):
                u.notifications.add(notification(n, category=Category.MATCHES if n == 2 else Category.UNLOCKS))
            u.notifications.add(notification(9, recipient="bob"))
            u.commit()
        with uow(read_only=True) as u:
            everything = u.notifications.list_after("ada", ListWindow(size=10), False, None)
            assert [x.id for x in everything] == [ident(4), ident(3), ident(2), ident(1)]
            assert (everything[0].title, as_utc(everything[0].created_at)) == ("title 4", NOW)
            assert dict(everything[0].params) == {"n": "4"}
            assert u.notifications.list_after("ada", ListWindow(size=1), False, None) == everything[:2]
            assert (
                u.notifications.list_after("ada", ListWindow(size=2, after=(ident(3),)), False, None) == everything[2:]
            )
            matches = u.notifications.list_after("ada", ListWindow(size=10), False, Category.MATCHES)
            assert [x.id for x in matches] == [ident(2)]
            assert u.notifications.unread_count("ada") == 4 and u.notifications.get("bob", ident(1)) is None
        with uow() as u:
            u.notifications.mark_read(notification(3).mark_read(NOW))
            u.commit()
        with uow() as u:
            u.notifications.mark_read(notification(3).mark_read(NOW + timedelta(hours=1)))  # read already
            u.commit()
        with uow(read_only=True) as u:
            read = u.notifications.get("ada", ident(3))
            assert read is not None and read.read_at is not None and as_utc(read.read_at) == NOW
            unread = u.notifications.list_after("ada", ListWindow(size=10), True, None)
            assert [x.id for x in unread] == [ident(4), ident(2), ident(1)] and u.notifications.unread_count("ada") == 3
        with uow() as u:
            assert u.notifications.mark_all_read("ada", Category.UNLOCKS, ident(2), NOW) == 1  # 1 only: 2 is a match
            assert u.notifications.mark_all_read("ada", None, None, NOW) == 2
            assert u.notifications.unread_count("ada") == 0 and u.notifications.unread_count("bob") == 1
            u.commit()
        with pytest.raises(DuplicateRecord), uow() as u:
            u.notifications.add(notification(1))
            u.commit()

    def test_forgetting_and_retention(self, uow: UowFactory) -> None:
        with uow() as u:
            u.notifications.add(notification(1, at=NOW - timedelta(days=10)))
            u.notifications.add(notification(2))
            u.notifications.add(notification(3, recipient="bob"))
            assert u.deliveries.first_time("ada", "k1", NOW - timedelta(days=10))
            assert u.deliveries.first_time("ada", "k2", NOW)
            u.commit()
        with uow() as u:
            assert u.notifications.delete_before(NOW - timedelta(days=1), 100) == 1
            assert u.deliveries.delete_before(NOW - timedelta(days=1), 100) == 1
            assert u.deliveries.first_time("ada", "k1", NOW)  # forgotten: it counts again
            assert u.notifications.forget("ada") == 1 and u.deliveries.forget("ada") == 2
            u.commit()
        with uow(read_only=True) as u:
            assert u.notifications.unread_count("ada") == 0 and u.notifications.unread_count("bob") == 1

    def test_a_delivery_is_recorded_once_per_recipient_and_key_with_the_transaction(self, uow: UowFactory) -> None:
        with uow() as u:
            assert u.deliveries.first_time("ada", "unlock.received:x", NOW)
            assert not u.deliveries.first_time("ada", "unlock.received:x", NOW)
            assert u.deliveries.first_time("bob", "unlock.received:x", NOW)
            # no commit: rolled back
        with uow() as u:
            assert u.deliveries.first_time("ada", "unlock.received:x", NOW)
            u.commit()
        with uow() as u:
            assert not u.deliveries.first_time("ada", "unlock.received:x", NOW)

    def test_memberships_follow_the_newest_event(self, uow: UowFactory) -> None:
        with uow() as u:
            assert u.memberships.apply(member("ada"))
            assert u.memberships.apply(member("bob", PageRole.VIEWER))
            assert u.memberships.apply(member("ada", PageRole.ADMIN, page=FUND))
            assert not u.memberships.apply(member("bob", PageRole.ADMIN, at=NOW - timedelta(seconds=1)))  # older
            u.commit()
        with uow(read_only=True) as u:
            listed = u.memberships.members_of(ACME.name)
            assert [(m.member, m.role, m.email) for m in listed] == [
                ("ada", PageRole.OWNER, "ada@example.com"),
                ("bob", PageRole.VIEWER, "bob@example.com"),
            ]
            assert [m.member for m in u.memberships.members_of(ACME.name, frozenset({PageRole.VIEWER}))] == ["bob"]
            assert [m.page for m in u.memberships.of_member("ada")] == [ACME, FUND]
        with uow() as u:
            assert u.memberships.apply(member("bob", None, at=NOW + timedelta(seconds=1)))  # removed
            assert not u.memberships.apply(member("bob", PageRole.VIEWER))  # the older add, retried
            u.commit()
        with uow(read_only=True) as u:
            assert [m.member for m in u.memberships.members_of(ACME.name)] == ["ada"]
            assert u.memberships.of_member("bob") == []
        with uow() as u:
            assert u.memberships.forget({"ada", "bob"}) == 3
            u.commit()
        with uow(read_only=True) as u:
            assert u.memberships.members_of(FUND.name) == []

    def test_known_users_and_page_titles(self, uow: UowFactory) -> None:
        with uow() as u:
            assert u.users.apply(UserChanged("ada", "kc-ada", "Ada@Example.com", "Ada L", False, NOW))
            assert not u.users.apply(UserChanged("ada", "kc-ada", "old@example.com", "Ada", False, NOW - timedelta(1)))
            assert u.pages.apply(PageChanged(ACME, "Acme", False, NOW))
            u.commit()
        with uow(read_only=True) as u:
            assert u.users.get("ada") == KnownUser("ada", "kc-ada", "ada@example.com", "Ada L")
            assert u.users.find_by_email("ADA@example.com") == u.users.get("ada")
            assert u.users.find_by_email("nobody@example.com") is None and u.users.get("bob") is None
            assert (u.pages.title(ACME.name), u.pages.title(FUND.name)) == ("Acme", "")
        with uow() as u:
            assert u.pages.apply(PageChanged(ACME, "", True, NOW + timedelta(seconds=1)))
            assert u.users.forget({"ada", "kc-ada"}) == 1
            u.commit()
        with uow(read_only=True) as u:
            assert u.pages.title(ACME.name) == "" and u.users.get("ada") is None

    def test_digest_items(self, uow: UowFactory) -> None:
        def item(recipient: str, key: str, minutes: int) -> DigestItem:
            at = NOW + timedelta(minutes=minutes)
            return DigestItem(recipient, key, ACME.name, "Acme", FUND.name, "Blue Fund", 88.5, at)

        with uow() as u:
            for recipient, key, minutes in (("bob", "k1", 0), ("ada", "k2", 5), ("ada", "k1", 1), ("cy", "k1", 60)):
                u.digests.add(item(recipient, key, minutes))
            u.commit()
        with pytest.raises(DuplicateRecord), uow() as u:
            u.digests.add(item("ada", "k1", 0))
            u.commit()
        with uow() as u:
            assert u.digests.recipients_before(NOW + timedelta(minutes=30), 10) == ["ada", "bob"]
            assert u.digests.recipients_before(NOW + timedelta(minutes=30), 1) == ["ada"]
            found = u.digests.items_before("ada", NOW + timedelta(minutes=30))
            assert [i.key for i in found] == ["k1", "k2"] and found[0].score == 88.5
            assert u.digests.remove("ada", ["k1", "k2", "k9"]) == 2
            assert u.digests.forget("cy") == 1
            u.commit()
        with uow(read_only=True) as u:
            assert u.digests.recipients_before(NOW + timedelta(days=1), 10) == ["bob"]

    def test_preferences(self, uow: UowFactory) -> None:
        channels = {c: Channels(c is not Category.BILLING, c is not Category.MATCHES) for c in Category}
        saved = Preferences("ada", MappingProxyType(channels), DigestFrequency.WEEKLY, "fr-CA", NOW)
        with uow() as u:
            assert u.preferences.get("ada") is None
            u.preferences.save(saved)
            u.preferences.save(replace(saved, locale="fr"))
            u.commit()
        with uow(read_only=True) as u:
            found = u.preferences.get("ada")
            assert found is not None and found.locale == "fr" and found.match_digest is DigestFrequency.WEEKLY
            assert dict(found.channels) == channels
        with uow() as u:
            assert u.preferences.forget("ada") == 1 and u.preferences.get("ada") is None

    def test_a_mail_is_a_mail_requested_in_the_transaction(
        self, uow: UowFactory, sent: Callable[[], list[MailRequested]]
    ) -> None:
        with uow() as u:
            u.mail.send("notification_unlock_received", "ada@example.com", "Ada", "fr", {"link": "x"}, "mail:k")
            # no commit: no mail
        with uow() as u:
            u.mail.send("notification_unlock_received", "ada@example.com", "Ada", "fr", {"link": "x"}, "mail:k")
            u.commit()
        [mail] = sent()
        assert (mail.template, mail.to_email, mail.to_name, mail.locale) == (
            "notification_unlock_received",
            "ada@example.com",
            "Ada",
            "fr",
        )
        assert dict(mail.variables) == {"link": "x"}


class TestInMemory(Contract):
    @pytest.fixture
    def store(self) -> MemoryStore:
        return MemoryStore()

    @pytest.fixture
    def uow(self, store: MemoryStore) -> UowFactory:
        return partial(FakeNotificationUnitOfWork, store)

    @pytest.fixture
    def sent(self, store: MemoryStore) -> Callable[[], list[MailRequested]]:
        def read() -> list[MailRequested]:
            return [
                MailRequested(
                    template=m.template, to_email=m.to_email, to_name=m.to_name, locale=m.locale, variables=m.variables
                )
                for m in mails(store)
            ]

        return read


class TestSql(Contract):
    @pytest.fixture
    def engine(self, each_database: tuple[str, str]) -> Iterator[Engine]:
        with migrated_engine(each_database, MIGRATIONS) as engine:
            yield engine

    @pytest.fixture
    def uow(self, engine: Engine) -> UowFactory:
        return partial(SqlNotificationUnitOfWork, engine)

    @pytest.fixture
    def sent(self, engine: Engine) -> Callable[[], list[MailRequested]]:
        def read() -> list[MailRequested]:
            with engine.connect() as connection:
                rows = connection.execute(select(outbox_messages.c.body, outbox_messages.c.exchange)).all()
            assert {exchange for _, exchange in rows} <= {"mail.exchange.direct"}
            return [unpack_payload(from_json(body), MailRequested) for body, _ in rows]

        return read

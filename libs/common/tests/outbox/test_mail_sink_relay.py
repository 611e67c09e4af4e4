"""Without a broker, the relay hands mail rows to the mail sink and leaves every other event pending."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from devinsider.common.v1.mail_pb2 import MailRequested
from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.mail import FileMailSink
from devinsider_common.outbox import OutboxRelay, OutboxWriter, start_relay_thread
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.mail_sink import EXCHANGES, MailSinkPublisher
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.outbox.targets import relay_target
from devinsider_common.outbox.topology import MAIL, USER_DELETED, USER_UPDATES, direct_routing_key
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.polling import wait_for

from .conftest import count_by_status

WELCOME = MailRequested(template="welcome", to_email="ada@example.com", variables={"given_name": "Ada"})


def write_mail_and_event(engine: Engine, mail: MailRequested = WELCOME) -> str:
    with engine.begin() as connection:
        writer = OutboxWriter(connection, "user")
        writer.add(USER_UPDATES, USER_DELETED, UserDeleted(name="users/1"), "users/1")
        return writer.add(MAIL, direct_routing_key(MAIL), mail, "mail:welcome")


def test_mail_rows_go_to_the_sink_and_other_events_stay_pending(any_engine: Engine, tmp_path: Path) -> None:
    message_id = write_mail_and_event(any_engine)
    relay = OutboxRelay(any_engine, MailSinkPublisher(FileMailSink(tmp_path / "mail")), exchanges=EXCHANGES)
    assert relay.relay_once() == 1
    assert relay.relay_once() == 0
    [written] = (tmp_path / "mail").iterdir()
    assert written.name.endswith(f"-welcome-{message_id}.eml") and "To: ada@example.com" in written.read_text()
    assert count_by_status(any_engine) == {"published": 1, "pending": 1}
    with any_engine.connect() as connection:
        pending = connection.execute(select(outbox_messages.c.exchange).where(outbox_messages.c.status == "pending"))
        assert pending.scalars().all() == [USER_UPDATES]


def test_a_row_the_sink_cannot_read_fails_after_its_attempts(any_engine: Engine, tmp_path: Path) -> None:
    with any_engine.begin() as connection:  # not a MailRequested, on the mail exchange
        OutboxWriter(connection, "user").add(MAIL, direct_routing_key(MAIL), UserDeleted(name="users/2"), "x")
    relay = OutboxRelay(
        any_engine,
        MailSinkPublisher(FileMailSink(tmp_path)),
        max_attempts=2,
        backoff_base_seconds=0.0,
        exchanges=EXCHANGES,
    )
    relay.relay_once()
    relay.relay_once()
    assert count_by_status(any_engine) == {"failed": 1}
    assert not (tmp_path / "mail").exists()


def test_the_relay_thread_writes_mail_without_amqp(any_engine: Engine, tmp_path: Path) -> None:
    handle = start_relay_thread(
        any_engine, BrokerSettings(amqp_url="", mail_sink_dir=str(tmp_path / "mail"), relay_interval_seconds=0.05)
    )
    assert handle is not None
    try:
        write_mail_and_event(any_engine)
        assert wait_for(lambda: count_by_status(any_engine) == {"published": 1, "pending": 1})
    finally:
        handle.stop()
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1


def test_with_a_broker_the_mail_sink_changes_nothing(tmp_path: Path) -> None:
    target = relay_target(BrokerSettings(amqp_url="amqp://guest:guest@127.0.0.1:1/%2F", mail_sink_dir=str(tmp_path)))
    assert target is not None
    publisher, exchanges = target
    assert isinstance(publisher, AmqpPublisher) and exchanges is None
    assert relay_target(BrokerSettings(amqp_url="", mail_sink_dir="")) is None

"""What `make run` does with a mail: without a broker each service's relay hands its `MailRequested` to the
file sink; with one, run_local consumes `local.mail-sink`. Either way the file is the mail a person reads:
its subject, text and HTML rendered from the template."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import Engine

from devinsider.common.v1.mail_pb2 import MailRequested
from devinsider_common.consumer import Delivery, start_consumer_thread
from devinsider_common.db.engine import create_service_engine
from devinsider_common.mail import FileMailSink
from devinsider_common.mail.catalog import CATALOG
from devinsider_common.mail.local import QUEUE, local_mail_subscription
from devinsider_common.outbox import OutboxRelay, OutboxWriter
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import build_envelope, to_json
from devinsider_common.outbox.mail_sink import EXCHANGES, MailSinkPublisher
from devinsider_common.outbox.topology import MAIL, direct_routing_key
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.polling import wait_for

from ..outbox.conftest import create_tables

TEMPLATE = "notification_unlock_received"


def unlock_mail() -> MailRequested:
    variables = {**CATALOG[TEMPLATE].sample, "unlocker_display_name": "Blue <Fund> & Co"}
    return MailRequested(template=TEMPLATE, to_email="ada@example.com", to_name="Ada", locale="en", variables=variables)


def read(path: Path) -> tuple[EmailMessage, str, str]:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return message, str(text.get_content()), str(html.get_content())


def check(path: Path) -> None:
    message, text, html = read(path)
    assert message["Subject"] == "Blue <Fund> & Co unlocked Acme Analytics"
    assert message["To"] == "Ada <ada@example.com>" and message["X-DevInsider-Template"] == TEMPLATE
    assert text.startswith("Hello Ada,\n") and "Blue <Fund> & Co unlocked Acme Analytics on DevInsider" in text
    assert "\nhttp://localhost:3000/companies/c1\n" in text
    assert "<strong>Blue &lt;Fund&gt; &amp; Co</strong>" in html and 'href="http://localhost:3000/companies/c1"' in html


def test_without_a_broker_the_relay_writes_the_rendered_mail(tmp_path: Path) -> None:
    engine: Engine = create_service_engine(f"sqlite+pysqlite:///{tmp_path / 'svc.sqlite3'}", "svc")
    create_tables(engine)
    with engine.begin() as connection:
        OutboxWriter(connection, "notification").add(MAIL, direct_routing_key(MAIL), unlock_mail(), "mail:x")
    relay = OutboxRelay(engine, MailSinkPublisher(FileMailSink(tmp_path / "mail")), exchanges=EXCHANGES)
    assert relay.relay_once() == 1
    [path] = (tmp_path / "mail").glob(f"*-{TEMPLATE}-*.eml")
    check(path)


def test_the_local_consumer_writes_the_rendered_mail(tmp_path: Path) -> None:
    subscription = local_mail_subscription(FileMailSink(tmp_path))
    envelope = build_envelope(unlock_mail(), source="notification", external_id="mail:x", occur_time=datetime.now(UTC))
    assert subscription.handler(Delivery(QUEUE, "m-1", envelope, 1))
    [path] = tmp_path.glob("*.eml")
    assert path.name.endswith(f"-{TEMPLATE}-m-1.eml")
    check(path)


@pytest.mark.rabbitmq
def test_with_a_broker_run_local_consumes_the_mails_into_the_sink(tmp_path: Path, amqp_url: str) -> None:
    broker = BrokerSettings(amqp_url=amqp_url, consumer_retry_delay_seconds=0.2)
    thread = start_consumer_thread("local-mail", broker, [local_mail_subscription(FileMailSink(tmp_path))])
    assert thread is not None
    try:
        assert thread.consumer.connected.wait(10)
        envelope = build_envelope(unlock_mail(), source="notification", external_id="mail:x")
        publisher = AmqpPublisher(amqp_url)
        try:
            key = direct_routing_key(MAIL)
            publisher.publish(MAIL, key, to_json(envelope), envelope.event_id, envelope.event_type)
        finally:
            publisher.close()
        assert wait_for(lambda: list(tmp_path.glob("*.eml")), timeout=10)
        check(next(tmp_path.glob("*.eml")))
    finally:
        thread.stop()

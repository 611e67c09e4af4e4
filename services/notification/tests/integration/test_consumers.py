"""The notification service's queues over the real RabbitMQ: events published as their owners' relays
publish them (exchange, routing key, message id, type) reach `notification.*`, and what they tell shows
in the in-app list and goes out as `MailRequested` on `mail.exchange.direct`. The rules are tested on the
fakes (tests/unit)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pika
import pytest
from google.protobuf.message import Message

from devinsider.common.v1.mail_pb2 import MailRequested
from devinsider.notification.v1 import notification_pb2 as pb
from devinsider.notification.v1 import notification_pb2_grpc
from devinsider_common.outbox import topology
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import from_json, to_json, unpack_payload
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import bind_test_queue, drain
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.tokens import CallerFactory
from notification_service.bootstrap import NotificationService, start
from notification_service.service_layer.consumers import queues

from .. import events
from ..conftest import make_settings

pytestmark = pytest.mark.rabbitmq

ACME, FUND = "companies/acme", "investors/fund"


@pytest.fixture
def consuming(tmp_path: Path, database: tuple[str, str], amqp_url: str) -> Iterator[NotificationService]:
    broker = BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05, consumer_retry_delay_seconds=0.2)
    service = start(make_settings(tmp_path, *database, broker=broker), run_jobs=False)
    try:
        assert service.wait_until_consuming(15)
        yield service
    finally:
        service.stop(grace=0)


def publish(amqp_url: str, exchange: str, routing_key: str, event: Message) -> None:
    wrapped = events.envelope(event)
    publisher = AmqpPublisher(amqp_url)
    try:
        publisher.publish(exchange, routing_key, to_json(wrapped), wrapped.event_id, wrapped.event_type)
    finally:
        publisher.close()


def test_every_queue_is_declared_and_bound(consuming: NotificationService, amqp_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        for queue in queues():
            for name in (queue.name, queue.retry_queue, queue.dead_letter_queue):
                channel.queue_declare(queue=name, passive=True)  # raises when missing
    finally:
        connection.close()


def test_events_from_every_exchange_become_notifications_and_mails(
    consuming: NotificationService, amqp_url: str, callers: CallerFactory
) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    mail_queue = bind_test_queue(channel, topology.MAIL, topology.direct_routing_key(topology.MAIL))
    company_key = topology.direct_routing_key(topology.ODOO_COMPANY)
    publish(amqp_url, topology.USER_UPDATES, topology.USER_CREATED, events.user_created("ada", "ada@acme.io"))
    publish(amqp_url, topology.ODOO_COMPANY, company_key, events.page_created(ACME, "Acme Analytics"))
    publish(amqp_url, topology.ODOO_COMPANY, company_key, events.member(ACME, "ada"))
    publish(
        amqp_url,
        topology.ODOO_INVESTOR,
        topology.direct_routing_key(topology.ODOO_INVESTOR),
        events.member(FUND, "vic"),
    )
    ada = callers("ada").metadata
    with grpc.insecure_channel(f"127.0.0.1:{consuming.port}") as grpc_channel:
        stub = notification_pb2_grpc.NotificationServiceStub(grpc_channel)

        def kinds() -> list[str]:
            listed = stub.ListNotifications(pb.ListNotificationsRequest(parent="users/me"), metadata=ada)
            return sorted(n.kind for n in listed.notifications)

        assert wait_for(lambda: _member_known(consuming), timeout=15)  # queues are not ordered among themselves
        publish(amqp_url, topology.UNLOCK, "unlock.created", events.unlock(FUND, ACME))
        publish(
            amqp_url, topology.MATCHING, topology.direct_routing_key(topology.MATCHING), events.match_found(ACME, FUND)
        )
        publish(amqp_url, topology.CONTACT, topology.CONTACT_REQUEST_CREATED, events.contact_request(FUND, ACME))
        expected = ["contact.request_received", "match.found", "unlock.received"]
        assert wait_for(lambda: kinds() == expected, timeout=15), kinds()

        mails: list[MailRequested] = []

        def two_mails() -> bool:
            mails.extend(_mails(channel, mail_queue))
            return len(mails) >= 2

        assert wait_for(two_mails, timeout=15)
        assert sorted(m.template for m in mails) == [
            "notification_contact_request_received",
            "notification_unlock_received",
        ]
        assert {m.to_email for m in mails} == {"ada@acme.io"}

        publish(amqp_url, topology.USER_UPDATES, topology.USER_DELETED, events.user_created("ada", deleted=True))
        assert wait_for(lambda: kinds() == [], timeout=15)  # erased
    connection.close()


def _member_known(service: NotificationService) -> bool:
    with service.app.notifications._uow(read_only=True) as uow:
        return [m.member for m in uow.memberships.members_of(ACME)] == ["ada"]


def _mails(channel: object, queue: str) -> list[MailRequested]:
    return [unpack_payload(from_json(m.body), MailRequested) for m in drain(channel, queue)]

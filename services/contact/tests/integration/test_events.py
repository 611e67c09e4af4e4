"""The contact service on the real RabbitMQ: billing's UnlockCreated reaches its queue (`contact.unlocks`),
the shared projector records it and a request to the unlocked page is then allowed; the request's events
are relayed to `contact.exchange.topic` (read back from `devinsider_contact_queue`) and the CRM counters
to `odoo_contact_request_queue`."""

from __future__ import annotations

import time
import uuid

import grpc
import pika
import pytest

from contact_service.bootstrap import start
from contact_service.settings import ContactSettings
from devinsider.billing.v1 import billing_pb2
from devinsider.billing.v1.events_pb2 import UnlockCreated
from devinsider.common.v1 import page_pb2
from devinsider.contact.v1 import contact_pb2, contact_pb2_grpc, events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import build_envelope, from_json, to_json, unpack_payload
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import drain
from devinsider_common.testing.neighbours import Neighbours
from devinsider_common.testing.tokens import CallerFactory

pytestmark = pytest.mark.rabbitmq

FUND, ISV = "investors/fund-1", "companies/isv-1"


def publish_unlock(amqp_url: str) -> None:
    event = UnlockCreated(
        unlocker=page_pb2.PageRef(kind=page_pb2.PAGE_KIND_INVESTOR, name=FUND),
        unlock=billing_pb2.Unlock(
            name=f"{FUND}/unlocks/{uuid.uuid4()}", target=page_pb2.PageRef(kind=page_pb2.PAGE_KIND_COMPANY, name=ISV)
        ),
    )
    envelope = build_envelope(event, source="billing", external_id=event.unlock.name)
    publisher = AmqpPublisher(amqp_url)
    try:
        publisher.publish(topology.UNLOCK, "", to_json(envelope), envelope.event_id, envelope.event_type)
    finally:
        publisher.close()


def read(amqp_url: str, queue: str, count: int) -> list[bytes]:
    """The bodies of `count` messages of `queue` (waiting for them a few seconds)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    bodies: list[bytes] = []
    try:
        channel = connection.channel()
        deadline = time.monotonic() + 15
        while len(bodies) < count and time.monotonic() < deadline:
            bodies += [message.body for message in drain(channel, queue)]
            time.sleep(0.05)
    finally:
        connection.close()
    return bodies


def test_an_unlock_consumed_allows_a_request_whose_events_are_relayed(
    settings: ContactSettings, neighbours: Neighbours, callers: CallerFactory, amqp_url: str
) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    topology.declare_topology(connection.channel())
    connection.close()
    configured = settings.model_copy(update={"broker": BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05)})
    service = start(configured)
    try:
        assert service.wait_until_consuming()
        neighbours.add_member(FUND, "victor")
        victor = callers("victor", roles=("investor",))
        body = contact_pb2.ContactRequest(
            target=page_pb2.PageRef(name=ISV),
            message="Hello",
            sender_contact=contact_pb2.ContactPerson(user="users/victor"),
        )
        create = contact_pb2.CreateContactRequestRequest(parent=FUND, contact_request=body, request_id="r1")
        publish_unlock(amqp_url)
        deadline, sent = time.monotonic() + 15, None
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = contact_pb2_grpc.ContactServiceStub(channel)
            while sent is None:
                try:
                    sent = stub.CreateContactRequest(create, metadata=victor.metadata)
                except grpc.RpcError as error:  # CONTACT_REQUIRES_UNLOCK until the unlock is consumed
                    if error.code() != grpc.StatusCode.FAILED_PRECONDITION or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        (created,) = read(amqp_url, topology.CONTACT_QUEUE, 1)
        envelope = from_json(created)
        event = unpack_payload(envelope, events_pb2.ContactRequestCreated)
        assert envelope.external_id == sent.name and event.recipient.name == ISV
        assert event.message_excerpt == "Hello" and not event.contact_request.HasField("sender_contact")
        counters = [
            unpack_payload(from_json(b), events_pb2.PageContactCounters)
            for b in read(amqp_url, topology.DIRECT_QUEUES[topology.ODOO_CONTACT_REQUEST], 2)
        ]
        assert {(c.page.name, c.contacted_count, c.contact_requests_received) for c in counters} == {
            (FUND, 1, 0),
            (ISV, 0, 1),
        }
    finally:
        service.stop(grace=0)

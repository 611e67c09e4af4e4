"""Events leave the user service through its outbox: nothing lost while RabbitMQ is down, each once."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pika
import pytest
from google.protobuf import field_mask_pb2

from devinsider.common.v1 import mail_pb2
from devinsider.user.v1 import events_pb2, user_pb2, user_pb2_grpc
from devinsider_common.outbox import topology
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.relay import OutboxRelay
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import bind_test_queue, closed_port_url, drain
from devinsider_common.testing.tokens import TokenFactory
from user_service.bootstrap import start

from ..conftest import bearer, make_settings

UPDATES = 60  # more than a relay batch (50): the backlog drains over several batches


@pytest.mark.slow
def test_writes_succeed_while_the_broker_is_down_and_every_event_arrives_once_after(
    workdir: Path, pg_schema: tuple[str, str], amqp_url: str, token: TokenFactory
) -> None:
    url, schema = pg_schema
    # A short backoff cap: rows that failed while the broker was down become due again quickly.
    down = BrokerSettings(
        amqp_url=closed_port_url(amqp_url), relay_interval_seconds=0.05, relay_backoff_max_seconds=0.2
    )
    service = start(make_settings(workdir, url, schema, broker=down))
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    topology.declare_topology(channel)
    queue = bind_test_queue(channel, topology.USER_UPDATES, topology.USER_UPDATED)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as grpc_channel:
            stub = user_pb2_grpc.UserServiceStub(grpc_channel)
            auth = bearer(token("kc-writer"))
            for i in range(UPDATES):
                request = user_pb2.UpdateMeRequest(
                    user=user_pb2.User(job_title=f"title {i}"),
                    update_mask=field_mask_pb2.FieldMask(paths=["job_title"]),
                )
                assert stub.UpdateMe(request, metadata=auth).job_title == f"title {i}"
        assert drain(channel, queue) == []  # nothing reached the broker...
        relay = OutboxRelay(service.engine, AmqpPublisher(amqp_url), batch_size=50)
        assert relay.backlog() >= UPDATES + 2  # ...and nothing was lost: created + mail + the updates
    finally:
        service.stop(grace=0)
    deadline = time.monotonic() + 30
    while relay.backlog() and time.monotonic() < deadline:
        if not relay.relay_once():
            time.sleep(0.1)
    assert relay.backlog() == 0
    messages = drain(channel, queue)
    ids = [m.properties.message_id for m in messages]
    assert len(ids) == len(set(ids)) == UPDATES
    titles = []
    for message in messages:
        assert message.properties.delivery_mode == 2 and message.properties.type == "devinsider.user.v1.UserUpdated"
        envelope = from_json(message.body)
        assert envelope.event_id == message.properties.message_id and envelope.source == "user"
        titles.append(unpack_payload(envelope, events_pb2.UserUpdated).user.job_title)
    assert sorted(titles) == sorted(f"title {i}" for i in range(UPDATES))
    welcome = [from_json(m.body) for m in drain(channel, "mail_service_queue")]
    assert [unpack_payload(e, mail_pb2.MailRequested).template for e in welcome] == ["welcome"]
    connection.close()

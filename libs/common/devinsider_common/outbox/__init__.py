"""Transactional outbox: events stored with the change, relayed to RabbitMQ with publisher confirms."""

from devinsider_common.outbox.amqp import AmqpPublisher, BrokerUnavailableError, MessageRejectedError, PublishError
from devinsider_common.outbox.envelope import build_envelope, from_json, to_json, unpack_payload
from devinsider_common.outbox.inbox import record_once
from devinsider_common.outbox.relay import OutboxRelay, RelayThread, start_relay_thread
from devinsider_common.outbox.tables import (
    create_outbox_tables,
    define_outbox_tables,
    drop_outbox_tables,
    inbox_messages,
    outbox_messages,
)
from devinsider_common.outbox.topology import declare_topology
from devinsider_common.outbox.writer import OutboxWriter

__all__ = [
    "AmqpPublisher",
    "BrokerUnavailableError",
    "MessageRejectedError",
    "OutboxRelay",
    "OutboxWriter",
    "PublishError",
    "RelayThread",
    "build_envelope",
    "create_outbox_tables",
    "declare_topology",
    "define_outbox_tables",
    "drop_outbox_tables",
    "from_json",
    "inbox_messages",
    "outbox_messages",
    "record_once",
    "start_relay_thread",
    "to_json",
    "unpack_payload",
]

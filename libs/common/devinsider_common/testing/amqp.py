"""RabbitMQ helpers for tests: a queue bound for the test, draining it, a URL where nothing listens."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any


def closed_port_url(amqp_url: str) -> str:
    """The same vhost URL on a port nothing listens on (RabbitMQ 'down')."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    vhost = amqp_url.rsplit("/", 1)[1]
    return f"amqp://guest:guest@127.0.0.1:{port}/{vhost}"


def bind_test_queue(channel: Any, exchange: str, routing_key: str) -> str:
    queue = channel.queue_declare(queue="", exclusive=True).method.queue
    channel.queue_bind(queue=queue, exchange=exchange, routing_key=routing_key)
    return str(queue)


@dataclass
class Received:
    properties: Any
    body: bytes


def drain(channel: Any, queue: str) -> list[Received]:
    """Every message in `queue` (basic_get until empty), acknowledged."""
    messages: list[Received] = []
    while True:
        method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
        if method is None:
            return messages
        messages.append(Received(properties, body))

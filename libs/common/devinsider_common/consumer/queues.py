"""The queues a consumer owns: declared by their owner, bound to the seed's exchanges, each with its own
retry queue and dead-letter exchange.

For a queue `Q` (named `<service>.<purpose>`, e.g. `company.unlocks`):
- `Q` is durable and bound to the seed exchanges it listens to; a message it rejects goes to its
  dead-letter exchange `Q.dlx` (fanout), bound to `Q.dead`, where it waits for an operator;
- `Q.retry` holds a failed message for CONSUMER_RETRY_DELAY_SECONDS (its TTL), then dead-letters it back
  to `Q` through the default exchange: bounded, delayed retries without a plugin and without blocking `Q`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devinsider_common.outbox.topology import Binding, declare_topology


@dataclass(frozen=True)
class ConsumerQueue:
    name: str
    bindings: tuple[Binding, ...]

    def __post_init__(self) -> None:
        if not self.bindings or any(binding.queue != self.name for binding in self.bindings):
            raise ValueError(f"{self.name}: bindings are required, and each must target the queue itself")

    @property
    def retry_queue(self) -> str:
        return f"{self.name}.retry"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.name}.dlx"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}.dead"


def declare_queue(channel: Any, queue: ConsumerQueue, retry_delay_seconds: float) -> None:
    """Declare the seed's exchanges, then `queue`, its retry and dead-letter queues and their bindings
    (idempotent; pika channel). Changing a queue's arguments later needs the queue deleted first."""
    declare_topology(channel)
    channel.exchange_declare(exchange=queue.dead_letter_exchange, exchange_type="fanout", durable=True)
    channel.queue_declare(queue=queue.dead_letter_queue, durable=True)
    channel.queue_bind(queue=queue.dead_letter_queue, exchange=queue.dead_letter_exchange, routing_key="")
    channel.queue_declare(
        queue=queue.name, durable=True, arguments={"x-dead-letter-exchange": queue.dead_letter_exchange}
    )
    channel.queue_declare(
        queue=queue.retry_queue,
        durable=True,
        arguments={
            "x-message-ttl": int(retry_delay_seconds * 1000),
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue.name,
        },
    )
    for binding in queue.bindings:
        channel.queue_bind(queue=queue.name, exchange=binding.exchange, routing_key=binding.routing_key)

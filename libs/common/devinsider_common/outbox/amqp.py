"""Publishing to RabbitMQ with publisher confirms (pika BlockingConnection).

pika has no automatic reconnect and a connection must never cross threads, so each thread gets
its own connection, opened lazily and dropped after any failure: the next call reconnects.
With `confirm_delivery()` and `mandatory=True`, `basic_publish` raises on a nack or an
unroutable message, so "returned without error" means "the broker has it in a durable queue".
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

import pika
import pika.exceptions
import structlog

from devinsider_common.outbox.topology import declare_topology

log = structlog.get_logger("devinsider.outbox.amqp")


class PublishError(Exception):
    """The message was not confirmed by the broker."""


class BrokerUnavailableError(PublishError):
    """The broker cannot be reached or the connection was lost: transient, not the message's fault."""


class MessageRejectedError(PublishError):
    """The broker refused this message (nack, unroutable, unknown exchange): retrying may not help."""


class Publisher(Protocol):
    """What the relay needs from a publisher (AmqpPublisher, or a test double)."""

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: str | bytes,
        message_id: str,
        event_type: str,
        headers: dict[str, str] | None = None,
    ) -> None: ...

    def keepalive(self) -> None: ...

    def close(self) -> None: ...


class _PerThread(threading.local):
    connection: Any = None
    channel: Any = None


class AmqpPublisher:
    def __init__(
        self,
        url: str,
        *,
        heartbeat_seconds: int = 30,
        blocked_connection_timeout_seconds: float = 30.0,
        socket_timeout_seconds: float = 5.0,
        declare: bool = True,
    ) -> None:
        self._params = pika.URLParameters(url)
        self._params.heartbeat = heartbeat_seconds
        # A broker memory/disk alarm blocks publishers; without this, publish would hang forever.
        self._params.blocked_connection_timeout = blocked_connection_timeout_seconds
        self._params.socket_timeout = socket_timeout_seconds
        self._params.connection_attempts = 1  # the relay's backoff does the retrying
        self._declare = declare
        self._local = _PerThread()

    def _channel(self) -> Any:
        if self._local.channel is not None and self._local.channel.is_open:
            return self._local.channel
        self.close()
        try:
            self._local.connection = pika.BlockingConnection(self._params)
            channel = self._local.connection.channel()
            channel.confirm_delivery()
            if self._declare:
                declare_topology(channel)
        except (pika.exceptions.AMQPError, OSError) as error:
            # A topology mismatch lands here too: keep messages pending rather than failing them.
            self.close()
            raise BrokerUnavailableError(f"cannot open a RabbitMQ channel: {error!r}") from error
        self._local.channel = channel
        return channel

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: str | bytes,
        message_id: str,
        event_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Publish one persistent message and wait for the broker's confirm; raises PublishError."""
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message_id,
            type=event_type,
            timestamp=int(time.time()),
            headers={"event_type": event_type, **(headers or {})},
        )
        try:
            channel = self._channel()
            channel.basic_publish(exchange, routing_key, body, properties=properties, mandatory=True)
        except BrokerUnavailableError:
            raise
        except pika.exceptions.UnroutableError as error:
            self.close()
            raise MessageRejectedError(f"unroutable: no queue bound for {exchange!r}/{routing_key!r}") from error
        except pika.exceptions.NackError as error:
            self.close()
            raise MessageRejectedError(f"nacked by the broker on {exchange!r}") from error
        except pika.exceptions.ChannelClosedByBroker as error:
            self.close()
            raise MessageRejectedError(f"refused on {exchange!r}: {error.reply_code} {error.reply_text}") from error
        except (pika.exceptions.AMQPError, OSError) as error:
            self.close()
            raise BrokerUnavailableError(f"connection to RabbitMQ lost: {error!r}") from error

    def keepalive(self) -> None:
        """Let pika answer heartbeats while idle (a BlockingConnection only does so inside calls)."""
        connection = self._local.connection
        if connection is None:
            return
        try:
            connection.process_data_events(time_limit=0)
        except (pika.exceptions.AMQPError, OSError) as error:
            log.warning("rabbitmq_connection_lost_while_idle", error=repr(error))
            self.close()

    def close(self) -> None:
        """Close this thread's connection, if any; errors are ignored (it may be dead already)."""
        connection, self._local.connection, self._local.channel = self._local.connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except (pika.exceptions.AMQPError, OSError):
                log.debug("rabbitmq_close_failed", exc_info=True)

"""The consumer runtime: one pika connection per process, on its own thread, consuming the queues the
service owns and handing each event to its handler.

- A handler applies the event in one local transaction, deduplicating by message id through the inbox
  in that transaction (`devinsider_common.consumer.inbox`), and returns whether it applied it. The
  message is acknowledged only after the handler returned, so after its commit: a crash in between
  redelivers it, and the inbox absorbs the repeat.
- A handler that raises gets the message again after CONSUMER_RETRY_DELAY_SECONDS (through the
  queue's retry queue), up to CONSUMER_MAX_ATTEMPTS deliveries; then, or at once for `PermanentFailure`
  and for a body that is no event envelope, the message goes to the queue's dead-letter queue.
- `basic.qos` bounds the unacknowledged messages (CONSUMER_PREFETCH). Losing the broker closes the
  connection, which returns those to their queues; the runtime reconnects with a capped backoff.
- Stopping (SIGTERM, through the service runtime) lets the message in hand finish and be acknowledged,
  then closes the connection: nothing acknowledged is lost, nothing unacknowledged is dropped.
- With tracing on (devinsider_common.tracing), each delivery is a CONSUMER span, child of the relay's publish
  whose context the message's headers carry (through retries too), and the handler's queries are in it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pika
import pika.exceptions
import structlog
from google.protobuf.message import Message
from opentelemetry import trace

from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider_common import tracing
from devinsider_common.background import BackgroundLoop, start_loop
from devinsider_common.consumer.queues import ConsumerQueue, declare_queue
from devinsider_common.metrics import CONSUMED_TOTAL, CONSUMER_CONNECTED, CONSUMER_QUEUE_MESSAGES
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.settings import BrokerSettings

log = structlog.get_logger("devinsider.consumer")

M = TypeVar("M", bound=Message)

# The delivery count travels in this header through the retry queue.
ATTEMPT_HEADER = "x-devinsider-attempt"
# How often the queues' depths (lag, dead letters) are read for the metrics.
DEPTH_INTERVAL_SECONDS = 10.0


class PermanentFailure(Exception):
    """The handler can never apply this message (e.g. an event it cannot interpret): dead-letter it now."""


@dataclass(frozen=True)
class Delivery:
    """One message as its handler sees it."""

    queue: str
    message_id: str
    envelope: EventEnvelope
    attempt: int  # 1 for the first delivery

    @property
    def event_type(self) -> str:
        return self.envelope.event_type

    def payload(self, event_class: type[M]) -> M:
        """The event as `event_class`; an envelope carrying another type can never be handled here."""
        try:
            return unpack_payload(self.envelope, event_class)
        except ValueError as error:
            raise PermanentFailure(str(error)) from error


# Applies the event in one transaction; True when applied, False when the inbox had seen it already.
Handler = Callable[[Delivery], bool]


@dataclass(frozen=True)
class Subscription:
    queue: ConsumerQueue
    handler: Handler


class Consumer:
    """Consumes `subscriptions` on one connection until stopped (`run` on its own thread)."""

    def __init__(self, service: str, settings: BrokerSettings, subscriptions: Sequence[Subscription]) -> None:
        if not settings.amqp_url:
            raise ValueError("a consumer needs AMQP_URL")
        self._service = service
        self._settings = settings
        self._subscriptions = {s.queue.name: s for s in subscriptions}
        self._params = pika.URLParameters(settings.amqp_url)
        self._params.heartbeat = 30
        self._params.blocked_connection_timeout = 30.0
        self._params.connection_attempts = 1  # the backoff below does the retrying
        self.connected = threading.Event()
        self._next_depth_read = 0.0

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            connection = None
            try:
                connection = pika.BlockingConnection(self._params)
                channel = self._open_channel(connection)
                self._mark_connected(True)
                backoff = 0.5
                while not stop.is_set():
                    connection.process_data_events(time_limit=0.2)
                    self._read_depths(channel)
            except (pika.exceptions.AMQPError, OSError) as error:
                log.warning("consumer_connection_lost", service=self._service, error=repr(error), retry_in=backoff)
                stop.wait(backoff)
                backoff = min(self._settings.consumer_backoff_max_seconds, backoff * 2)
            finally:
                self._mark_connected(False)
                if connection is not None and connection.is_open:
                    try:
                        connection.close()  # unacknowledged deliveries go back to their queues
                    except (pika.exceptions.AMQPError, OSError):
                        log.debug("consumer_close_failed", exc_info=True)

    def _mark_connected(self, connected: bool) -> None:
        CONSUMER_CONNECTED.labels(self._service).set(1 if connected else 0)
        if connected:
            self.connected.set()
        else:
            self.connected.clear()

    def _open_channel(self, connection: Any) -> Any:
        channel = connection.channel()
        channel.confirm_delivery()  # a retry is acknowledged only once the broker holds its copy
        channel.basic_qos(prefetch_count=self._settings.consumer_prefetch)
        for name, subscription in self._subscriptions.items():
            declare_queue(channel, subscription.queue, self._settings.consumer_retry_delay_seconds)
            channel.basic_consume(queue=name, on_message_callback=functools.partial(self._on_message, name))
        return channel

    def _on_message(self, queue: str, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        headers = dict(properties.headers or {})
        attempt = int(headers.get(ATTEMPT_HEADER, 1))
        # With tracing on, the handler runs in a span whose parent is the publish the headers name.
        with tracing.consumer_span(queue, properties.message_id or "", properties.type or "", headers, attempt) as span:
            self._handle(queue, channel, method, properties, body, headers, attempt, span)

    def _handle(
        self,
        queue: str,
        channel: Any,
        method: Any,
        properties: Any,
        body: bytes,
        headers: dict[str, Any],
        attempt: int,
        span: trace.Span,
    ) -> None:
        try:
            envelope = from_json(body)
        except Exception as error:
            tracing.record_failure(span, error)
            self._dead_letter(channel, method, queue, "undecodable", error)
            return
        delivery = Delivery(queue, properties.message_id or envelope.event_id, envelope, attempt)
        try:
            applied = self._subscriptions[queue].handler(delivery)
        except PermanentFailure as error:
            tracing.record_failure(span, error)
            self._dead_letter(channel, method, queue, "dead_lettered", error)
        except Exception as error:
            tracing.record_failure(span, error)
            if attempt >= self._settings.consumer_max_attempts:
                self._dead_letter(channel, method, queue, "dead_lettered", error)
                return
            log.warning("consumer_message_retried", queue=queue, message_id=delivery.message_id, attempt=attempt)
            retry = pika.BasicProperties(
                content_type=properties.content_type,
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=properties.message_id,
                type=properties.type,
                timestamp=properties.timestamp,
                headers={**headers, ATTEMPT_HEADER: attempt + 1},
            )
            channel.basic_publish("", self._subscriptions[queue].queue.retry_queue, body, properties=retry)
            channel.basic_ack(method.delivery_tag)
            CONSUMED_TOTAL.labels(queue, "retried").inc()
        else:
            channel.basic_ack(method.delivery_tag)
            CONSUMED_TOTAL.labels(queue, "handled" if applied else "duplicate").inc()

    def _dead_letter(self, channel: Any, method: Any, queue: str, outcome: str, error: BaseException) -> None:
        log.error("consumer_message_dead_lettered", queue=queue, outcome=outcome, error=repr(error))
        channel.basic_nack(method.delivery_tag, requeue=False)  # to the queue's dead-letter exchange
        CONSUMED_TOTAL.labels(queue, outcome).inc()

    def _read_depths(self, channel: Any) -> None:
        if time.monotonic() < self._next_depth_read:
            return
        self._next_depth_read = time.monotonic() + DEPTH_INTERVAL_SECONDS
        for name, subscription in self._subscriptions.items():
            for state, queue in (("ready", name), ("dead", subscription.queue.dead_letter_queue)):
                declared = channel.queue_declare(queue=queue, passive=True)
                CONSUMER_QUEUE_MESSAGES.labels(name, state).set(declared.method.message_count)


@dataclass
class ConsumerThread:
    consumer: Consumer
    loop: BackgroundLoop

    def stop(self, timeout: float = 10.0) -> None:
        """Let the message in hand finish and be acknowledged, then close the connection."""
        self.loop.stop(timeout)


def start_consumer_thread(
    service: str, settings: BrokerSettings, subscriptions: Sequence[Subscription]
) -> ConsumerThread | None:
    """A daemon thread consuming `subscriptions`; None without AMQP_URL or subscriptions (nothing to consume)."""
    if not settings.amqp_url or not subscriptions:
        return None
    consumer = Consumer(service, settings, subscriptions)
    return ConsumerThread(consumer, start_loop(consumer.run, f"{service}-consumer"))

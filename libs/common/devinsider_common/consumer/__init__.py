"""Consuming events from RabbitMQ: owned queues with retries and dead letters (queues), the runtime that
hands each event to its handler and acknowledges after the handler's commit (runner), and the inbox port
a handler deduplicates with in its own transaction (inbox)."""

from devinsider_common.consumer.inbox import Inbox, SqlInbox
from devinsider_common.consumer.queues import ConsumerQueue, declare_queue
from devinsider_common.consumer.runner import (
    ATTEMPT_HEADER,
    ConsumerThread,
    Delivery,
    Handler,
    PermanentFailure,
    Subscription,
    start_consumer_thread,
)

__all__ = [
    "ATTEMPT_HEADER",
    "ConsumerQueue",
    "ConsumerThread",
    "Delivery",
    "Handler",
    "Inbox",
    "PermanentFailure",
    "SqlInbox",
    "Subscription",
    "declare_queue",
    "start_consumer_thread",
]

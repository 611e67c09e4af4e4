"""RabbitMQ exchanges, queues and bindings of DevInsider (names from the seed), as data.

Direct exchanges route with the target queue's name as the routing key, so a publisher names
where a message goes. `user_updates_exchange` is a topic exchange: routing keys `user.created`,
`user.updated`, `user.deleted`, `blacklist.changed`; Odoo's user queue binds `user.*`.
The seed lists no queue for `unlock.exchange.fanout`; `devinsider_unlock_queue` is added so that
mandatory publishes there are routable (an unroutable event would otherwise be refused); likewise
`devinsider_access_queue` for `blacklist.changed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

ExchangeType = Literal["direct", "topic", "fanout"]


@dataclass(frozen=True)
class Exchange:
    name: str
    type: ExchangeType
    durable: bool = True


@dataclass(frozen=True)
class Binding:
    exchange: str
    queue: str
    routing_key: str


MAIL: Final = "mail.exchange.direct"
MATCHING: Final = "devinsider_matching.exchange.direct"
USER_UPDATES: Final = "user_updates_exchange"
ODOO_COMPANY: Final = "odoo_company.exchange.direct"
ODOO_PROGRAM: Final = "odoo_program.exchange.direct"
ODOO_INVESTOR: Final = "odoo_investor.exchange.direct"
ODOO_PROGRAM_MEMBER: Final = "odoo_program_member.exchange.direct"
ODOO_VERIFIED_PRO: Final = "odoo_verified_pro.exchange.direct"
ODOO_CONTACT_SUPPORT: Final = "odoo_contact_support.exchange.direct"
BILLING: Final = "devinsider_billing.exchange.direct"
UNLOCK: Final = "unlock.exchange.fanout"
# The contact service (not in the seed): its events on a topic exchange (routing keys below), and the CRM's
# "contacted" counters of pages on a direct Odoo exchange like the seed's.
CONTACT: Final = "contact.exchange.topic"
ODOO_CONTACT_REQUEST: Final = "odoo_contact_request.exchange.direct"

# Routing keys on the topic exchange `user_updates_exchange`.
USER_CREATED: Final = "user.created"
USER_UPDATED: Final = "user.updated"
USER_DELETED: Final = "user.deleted"
BLACKLIST_CHANGED: Final = "blacklist.changed"

# Routing keys on the topic exchange `contact.exchange.topic`.
CONTACT_REQUEST_CREATED: Final = "contact_request.created"
CONTACT_REQUEST_ACCEPTED: Final = "contact_request.accepted"
CONTACT_REQUEST_DECLINED: Final = "contact_request.declined"
CONTACT_REQUEST_WITHDRAWN: Final = "contact_request.withdrawn"
CONTACT_MESSAGE_CREATED: Final = "contact_message.created"

# Direct exchange -> its queue; the routing key is the queue name.
DIRECT_QUEUES: Final[dict[str, str]] = {
    MAIL: "mail_service_queue",
    MATCHING: "devinsider_matching_queue",
    ODOO_COMPANY: "odoo_company_queue",
    ODOO_PROGRAM: "odoo_program_queue",
    ODOO_INVESTOR: "odoo_investor_queue",
    ODOO_PROGRAM_MEMBER: "odoo_program_member_queue",
    ODOO_VERIFIED_PRO: "odoo_verified_pro_queue",
    ODOO_CONTACT_SUPPORT: "odoo_contact_support_queue",
    BILLING: "devinsider_billing_queue",
    ODOO_CONTACT_REQUEST: "odoo_contact_request_queue",
}
ODOO_USER_QUEUE: Final = "odoo_user_queue"
UNLOCK_QUEUE: Final = "devinsider_unlock_queue"
# Blacklist changes, for consumers that drop cached access answers. Not in the seed; it exists so
# that the mandatory publish of `blacklist.changed` is routable, and its messages expire after a
# day so the queue never grows without a consumer.
ACCESS_QUEUE: Final = "devinsider_access_queue"
# Every contact event (`#`), so that its mandatory publishes are routable whoever consumes them (the
# notification service binds its own queue); kept a day, like the access queue, so it never grows unread.
CONTACT_QUEUE: Final = "devinsider_contact_queue"
QUEUE_ARGUMENTS: Final[dict[str, dict[str, Any]]] = {
    ACCESS_QUEUE: {"x-message-ttl": 24 * 3600 * 1000},
    CONTACT_QUEUE: {"x-message-ttl": 24 * 3600 * 1000},
}

EXCHANGES: Final[tuple[Exchange, ...]] = (
    *(Exchange(name, "direct") for name in DIRECT_QUEUES),
    Exchange(USER_UPDATES, "topic"),
    Exchange(UNLOCK, "fanout"),
    Exchange(CONTACT, "topic"),
)
BINDINGS: Final[tuple[Binding, ...]] = (
    *(Binding(exchange, queue, queue) for exchange, queue in DIRECT_QUEUES.items()),
    Binding(USER_UPDATES, ODOO_USER_QUEUE, "user.*"),
    Binding(USER_UPDATES, ACCESS_QUEUE, "blacklist.*"),
    Binding(UNLOCK, UNLOCK_QUEUE, ""),
    Binding(CONTACT, CONTACT_QUEUE, "#"),
)
QUEUES: Final[tuple[str, ...]] = tuple(dict.fromkeys(binding.queue for binding in BINDINGS))


def direct_routing_key(exchange: str) -> str:
    """The routing key that reaches the seed queue of a direct exchange."""
    return DIRECT_QUEUES[exchange]


def declare_topology(channel: Any) -> None:
    """Declare every exchange and queue durable, and bind them (idempotent; pika channel)."""
    for exchange in EXCHANGES:
        channel.exchange_declare(exchange=exchange.name, exchange_type=exchange.type, durable=exchange.durable)
    for queue in QUEUES:
        channel.queue_declare(queue=queue, durable=True, arguments=QUEUE_ARGUMENTS.get(queue))
    for binding in BINDINGS:
        channel.queue_bind(queue=binding.queue, exchange=binding.exchange, routing_key=binding.routing_key)

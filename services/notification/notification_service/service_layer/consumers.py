"""The queues the notification service consumes, and their one handler: the event read as a fact, then
applied (`Reactions`) in one transaction with the inbox record, so a redelivery changes nothing.

Each queue is named `notification.<source>` and bound to the exchanges of that source with the routing
keys their events are sent with (the seed queues keep theirs). Events of those exchanges that tell
nothing to notify (page content, claims, profiles...) are acknowledged without effect."""

from __future__ import annotations

import structlog

from devinsider_common.consumer import ConsumerQueue, Delivery, PermanentFailure, Subscription
from devinsider_common.outbox import topology
from devinsider_common.outbox.topology import Binding, direct_routing_key
from notification_service.service_layer.common import Clock, UowFactory
from notification_service.service_layer.ports import EventReader
from notification_service.service_layer.reactions import Reactions

log = structlog.get_logger("notification.consumer")

# What the contact service tells (protos/devinsider/contact/v1/events.proto), on its topic exchange.
CONTACT_KEYS = (
    topology.CONTACT_REQUEST_CREATED,
    topology.CONTACT_REQUEST_ACCEPTED,
    topology.CONTACT_REQUEST_DECLINED,
    topology.CONTACT_REQUEST_WITHDRAWN,
    topology.CONTACT_MESSAGE_CREATED,
)


def _direct(name: str, *exchanges: str) -> ConsumerQueue:
    return ConsumerQueue(name, tuple(Binding(e, name, direct_routing_key(e)) for e in exchanges))


def queues() -> list[ConsumerQueue]:
    """Every queue of the service (docs/consumers.md)."""
    users = "notification.users"
    contact = "notification.contact"
    return [
        _direct("notification.pages", topology.ODOO_COMPANY, topology.ODOO_INVESTOR, topology.ODOO_PROGRAM),
        _direct("notification.applications", topology.ODOO_PROGRAM_MEMBER),
        ConsumerQueue(
            users,
            tuple(
                Binding(topology.USER_UPDATES, users, key)
                for key in (topology.USER_CREATED, topology.USER_UPDATED, topology.USER_DELETED)
            ),
        ),
        ConsumerQueue("notification.unlocks", (Binding(topology.UNLOCK, "notification.unlocks", ""),)),
        _direct("notification.billing", topology.BILLING),
        _direct("notification.matches", topology.MATCHING),
        ConsumerQueue(contact, tuple(Binding(topology.CONTACT, contact, key) for key in CONTACT_KEYS)),
    ]


class EventConsumer:
    """The handler of every queue of the service."""

    def __init__(self, uow: UowFactory, clock: Clock, read: EventReader, reactions: Reactions) -> None:
        self._uow = uow
        self._clock = clock
        self._read = read
        self._reactions = reactions

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(queue, self) for queue in queues()]

    def __call__(self, delivery: Delivery) -> bool:
        try:
            fact = self._read(delivery.envelope)
        except ValueError as error:
            raise PermanentFailure(str(error)) from error
        if fact is None:
            return False
        with self._uow() as uow:
            if not uow.inbox.first_time(delivery.queue, delivery.message_id):
                return False
            notified = self._reactions.apply(uow, fact, self._clock())
            uow.commit()
        log.info("event.applied", queue=delivery.queue, event_type=delivery.event_type, notified=notified)
        return True

"""A deleted account in matching: the handler of `matching.user-deletions` (`UserDeleted`).

Favorites and blocks belong to pages, not to the member who clicked: a page keeps them when that member's
account is deleted (a block dropped with its creator would expose the page again). What is the user's is
the `creator` subject recorded on them: it is erased, once, in one transaction with the inbox record
(docs/decisions.md).
"""

from __future__ import annotations

import structlog

from devinsider.user.v1.events_pb2 import UserDeleted
from devinsider_common.consumer import ConsumerQueue, Delivery, PermanentFailure, Subscription
from devinsider_common.outbox.topology import USER_DELETED, USER_UPDATES, Binding
from matching_service.service_layer.common import UowFactory

log = structlog.get_logger("matching.departures")

QUEUE = "matching.user-deletions"


class CreatorErasure:
    def __init__(self, uow: UowFactory) -> None:
        self.queue = ConsumerQueue(QUEUE, (Binding(USER_UPDATES, QUEUE, USER_DELETED),))
        self._uow = uow

    def subscription(self) -> Subscription:
        return Subscription(self.queue, self)

    def __call__(self, delivery: Delivery) -> bool:
        subject = delivery.payload(UserDeleted).subject
        if not subject:
            raise PermanentFailure("UserDeleted without a subject")
        with self._uow() as uow:
            if not uow.inbox.first_time(QUEUE, delivery.message_id):
                return False
            favorites, blocks = uow.favorites.forget_creator(subject), uow.blocks.forget_creator(subject)
            uow.commit()
        log.info("account.creator_erased", favorites=favorites, blocks=blocks)
        return True

"""Matching follows the pages: the handler of `matching.pages`, the page services' events.

The company, investor and program services publish their page, member and invitation events on their
direct exchanges (`odoo_<kind>.exchange.direct`) with the routing key of Odoo's queue; matching binds
its own queue to the three with those keys, so Odoo's queues still get theirs. A page created, updated
(published, listed, completed, its industries or countries edited...) or deleted changes its stored
status and facts exactly as the status refresh would (the same mapping; a deleted page turns inactive
with its summary and facts kept), in one transaction with
the inbox record, the change log row every replica's index follows, and the announcement round the
change owes; then this replica's index catches up and the round is drained, as after the refresh.
After the transaction, whatever it decided, the page's cached summary is dropped (`PageDirectory.forget`),
so match lists show the change from then on.

Only profiled pages are followed (as the refresh does): a page gets its status with its first profile.
A status holds as of the event's `occur_time`: an event older than the stored status (a redelivery,
a retry, a poll that read the page later) changes nothing. The other events on those exchanges are
acknowledged without effect.
"""

from __future__ import annotations

import structlog

from devinsider_common.consumer import ConsumerQueue, Delivery, PermanentFailure, Subscription
from devinsider_common.outbox.topology import ODOO_COMPANY, ODOO_INVESTOR, ODOO_PROGRAM, Binding, direct_routing_key
from matching_service.domain.pages import deleted_status
from matching_service.service_layer.announcer import Announcer
from matching_service.service_layer.common import Clock, UowFactory, save_status
from matching_service.service_layer.index_sync import IndexSync
from matching_service.service_layer.ports import PageDirectory, PageEventReader

log = structlog.get_logger("matching.page_events")

QUEUE = "matching.pages"
PAGE_EXCHANGES = (ODOO_COMPANY, ODOO_INVESTOR, ODOO_PROGRAM)


def pages_queue() -> ConsumerQueue:
    """`matching.pages`, bound to each page service's exchange with the key its events are sent with."""
    return ConsumerQueue(QUEUE, tuple(Binding(e, QUEUE, direct_routing_key(e)) for e in PAGE_EXCHANGES))


class PageStatusFollower:
    """The handler of `matching.pages`."""

    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        read: PageEventReader,
        sync: IndexSync,
        announcer: Announcer,
        directory: PageDirectory,
    ) -> None:
        self.queue = pages_queue()
        self._uow = uow
        self._directory = directory
        self._clock = clock
        self._read = read
        self._sync = sync
        self._announcer = announcer

    def subscription(self) -> Subscription:
        return Subscription(self.queue, self)

    def __call__(self, delivery: Delivery) -> bool:
        try:
            change = self._read(delivery.envelope)
        except ValueError as error:
            raise PermanentFailure(str(error)) from error
        if change is None:
            return False  # members, invitations, claims: nothing matching keeps
        name = change.page.name
        now = self._clock()
        try:
            with self._uow() as uow:
                if uow.profiles.get(name) is None:
                    return False  # not followed (yet): its first profile fetches its status
                if not uow.inbox.first_time(self.queue.name, delivery.message_id):
                    return False
                status = change.status or deleted_status(change.page, uow.statuses.get_many([name]).get(name))
                changed = save_status(uow, status, change.at, now)
                if changed:
                    uow.changes.record([name], now)
                    uow.announcements.request(name, now)
                uow.commit()
        finally:  # also for a redelivery or an unfollowed page: a second delete is harmless
            self._directory.forget(name)
        log.info("page.status_followed", page=name, event_type=delivery.event_type, changed=changed)
        if changed:
            self._sync.catch_up()
            self._announcer.after_change(change.page)  # a failure is left to the announcement job
        return True

"""The outbox relay: publishes committed outbox rows to RabbitMQ, at least once, in id order per batch.

Rows are claimed by status with `FOR UPDATE SKIP LOCKED`, so several replicas relay side by side
without publishing a row twice (a cursor over the serial id would skip rows that commit late).
The claim, the publishes and the status updates share one transaction: a crash after a publish
and before the commit republishes the row, which consumers absorb by deduplicating on message id.
Without a broker, a relay restricted to the mail exchange feeds the local mail sink (mail_sink.py).
Each publish carries the trace context stored with its row (devinsider_common.tracing): with tracing on,
in an "outbox publish" span that is a child of the request that wrote the row.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, Row, func, select, update

from devinsider_common import tracing
from devinsider_common.background import BackgroundLoop, start_loop
from devinsider_common.db.engine import is_sqlite
from devinsider_common.outbox.amqp import BrokerUnavailableError, Publisher
from devinsider_common.outbox.retention import prune
from devinsider_common.outbox.tables import FAILED, PENDING, PUBLISHED, outbox_messages
from devinsider_common.outbox.targets import relay_target
from devinsider_common.settings import BrokerSettings

log = structlog.get_logger("devinsider.outbox.relay")
_t = outbox_messages.c
# How often a relay applies the retention (each replica; deletes are idempotent).
PRUNE_INTERVAL_SECONDS = 600.0


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        publisher: Publisher,
        batch_size: int = 100,
        max_attempts: int = 10,
        backoff_max_seconds: float = 60.0,
        *,
        backoff_base_seconds: float = 1.0,
        relay_interval_seconds: float = 0.5,
        retention: timedelta | None = None,
        prune_interval_seconds: float = PRUNE_INTERVAL_SECONDS,
        exchanges: Collection[str] | None = None,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._backoff_max = backoff_max_seconds
        self._backoff_base = backoff_base_seconds
        self._interval = relay_interval_seconds
        self._retention = retention
        self._prune_interval = prune_interval_seconds
        self._next_prune = 0.0
        self._exchanges = exchanges  # None: every row; else only rows of these exchanges are claimed

    def relay_once(self) -> int:
        """Publish one batch of due rows; returns how many were published."""
        now = datetime.now(UTC)
        claim = (
            select(_t.id, _t.message_id, _t.exchange, _t.routing_key, _t.event_type, _t.body, _t.attempts, _t.headers)
            .where(_t.status == PENDING, _t.available_at <= now)
            .order_by(_t.id)
            .limit(self._batch_size)
        )
        if self._exchanges is not None:
            claim = claim.where(_t.exchange.in_(self._exchanges))
        if not is_sqlite(self._engine):  # SQLite has a single writer and no row locks
            claim = claim.with_for_update(skip_locked=True)
        with self._engine.connect() as connection, connection.begin():
            rows = connection.execute(claim).all()
            published: list[int] = []
            for index, row in enumerate(rows):
                try:
                    self._publish(row)
                except BrokerUnavailableError as error:
                    # The rest of the batch cannot go either; an outage delays rows, never fails them.
                    for rest in rows[index:]:
                        self._record_failure(connection, rest, error, now, may_fail=False)
                    log.warning("outbox_broker_unavailable", error=str(error), pending=len(rows) - index)
                    break
                except Exception as error:
                    self._record_failure(connection, row, error, now, may_fail=True)
                else:
                    published.append(row.id)
            if published:
                connection.execute(
                    update(outbox_messages)
                    .where(_t.id.in_(published))
                    .values(status=PUBLISHED, published_at=now, attempts=_t.attempts + 1, last_error=None)
                )
        return len(published)

    def _publish(self, row: Row[Any]) -> None:
        """Publish one row, in a span whose parent is the trace context stored with it (when tracing is on)."""
        with tracing.publish_span(
            row.exchange, row.routing_key, row.message_id, row.event_type, _stored_headers(row.headers)
        ) as headers:
            self._publisher.publish(
                row.exchange, row.routing_key, row.body, row.message_id, row.event_type, headers=headers or None
            )

    def _record_failure(
        self, connection: Connection, row: Row[Any], error: Exception, now: datetime, *, may_fail: bool
    ) -> None:
        attempts = row.attempts + 1
        delay = min(self._backoff_max, self._backoff_base * 2 ** min(attempts - 1, 30))
        give_up = may_fail and attempts >= self._max_attempts
        connection.execute(
            update(outbox_messages)
            .where(_t.id == row.id)
            .values(
                attempts=attempts,
                last_error=f"{type(error).__name__}: {error}"[:2000],
                status=FAILED if give_up else PENDING,
                available_at=now + timedelta(seconds=delay),
            )
        )
        if give_up:
            log.error("outbox_message_failed", message_id=row.message_id, attempts=attempts, error=str(error))

    def backlog(self) -> int:
        """Rows still waiting to be published (for metrics and health)."""
        with self._engine.connect() as connection:
            return int(connection.execute(select(func.count()).where(_t.status == PENDING)).scalar_one())

    def prune_if_due(self) -> tuple[int, int]:
        """Apply the retention (outbox.retention) at most every prune interval; (outbox, inbox) deleted."""
        if self._retention is None or time.monotonic() < self._next_prune:
            return 0, 0
        self._next_prune = time.monotonic() + self._prune_interval
        deleted = prune(self._engine, self._retention)
        if any(deleted):
            log.info("outbox_pruned", published=deleted[0], inbox=deleted[1])
        return deleted

    def run(self, stop_event: threading.Event) -> None:
        """Relay until `stop_event` is set; full batches loop at once, otherwise wait an interval."""
        try:
            while not stop_event.is_set():
                try:
                    published = self.relay_once()
                    self.prune_if_due()
                except Exception:  # e.g. a database restart: keep the thread alive, retry after the interval
                    log.exception("outbox_relay_error")
                    published = 0
                if published < self._batch_size:
                    self._publisher.keepalive()
                    stop_event.wait(self._interval)
        finally:
            self._publisher.close()  # the connection belongs to this thread


def _stored_headers(value: str | None) -> dict[str, str] | None:
    """The headers stored with a row (a JSON object of strings); None when absent or unreadable."""
    if not value:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        log.warning("outbox_headers_unreadable", headers=value[:200])
        return None
    if not isinstance(decoded, dict):
        return None
    return {str(key): item for key, item in decoded.items() if isinstance(item, str)}


@dataclass
class RelayThread:
    relay: OutboxRelay
    loop: BackgroundLoop

    def stop(self, timeout: float = 10.0) -> None:
        self.loop.stop(timeout)


def start_relay_thread(engine: Engine, settings: BrokerSettings, name: str = "outbox-relay") -> RelayThread | None:
    """Start a daemon relay thread: to RabbitMQ with AMQP_URL; else, with MAIL_SINK_DIR, mail rows
    only, to files; else none (events stay stored)."""
    target = relay_target(settings)
    if target is None:
        return None
    publisher, exchanges = target
    relay = OutboxRelay(
        engine,
        publisher,
        batch_size=settings.relay_batch_size,
        max_attempts=settings.relay_max_attempts,
        backoff_max_seconds=settings.relay_backoff_max_seconds,
        relay_interval_seconds=settings.relay_interval_seconds,
        retention=timedelta(hours=settings.outbox_retention_hours) if settings.outbox_retention_hours > 0 else None,
        exchanges=exchanges,
    )
    return RelayThread(relay, start_loop(relay.run, name))

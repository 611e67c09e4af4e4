"""Writing events to the outbox in the caller's transaction, so the change and its event commit together.

Nothing here talks to RabbitMQ: the relay publishes committed rows later. A rolled-back
business transaction therefore leaves no event behind, and a broker outage never fails a write.
With tracing on, the row keeps the writing request's trace context (`headers`), so the relay's publish and
the consumers' handling join the request's trace.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from google.protobuf.message import Message
from sqlalchemy import Connection, insert

from devinsider.common.v1 import mail_pb2
from devinsider_common import tracing
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import build_envelope, to_json
from devinsider_common.outbox.tables import PENDING, outbox_messages


class OutboxWriter:
    """Adds pending outbox rows on `connection`, which must be inside the business transaction."""

    def __init__(self, connection: Connection, source: str) -> None:
        self._connection = connection
        self._source = source

    def add(
        self,
        exchange: str,
        routing_key: str,
        event: Message,
        external_id: str,
        schema_version: int = 1,
    ) -> str:
        """Store `event` for publication on `exchange`/`routing_key`; returns its message id."""
        envelope = build_envelope(event, source=self._source, external_id=external_id, schema_version=schema_version)
        headers = tracing.current_headers()  # the request's trace context: the relay publishes as its child
        now = datetime.now(UTC)
        self._connection.execute(
            insert(outbox_messages).values(
                message_id=envelope.event_id,
                exchange=exchange,
                routing_key=routing_key,
                event_type=envelope.event_type,
                body=to_json(envelope),
                status=PENDING,
                attempts=0,
                available_at=now,
                created_at=now,
                headers=None if headers is None else json.dumps(headers, separators=(",", ":")),
            )
        )
        return envelope.event_id


def add_direct(outbox: OutboxWriter, exchange: str, event: Message, external_id: str) -> str:
    """Store `event` for a direct exchange of the seed's topology (its one routing key)."""
    return outbox.add(exchange, topology.direct_routing_key(exchange), event, external_id=external_id)


def request_mail(
    outbox: OutboxWriter,
    to_email: str,
    template: str,
    variables: dict[str, str],
    *,
    to_name: str = "",
    external_id: str = "",
) -> None:
    """A `MailRequested` on `mail.exchange.direct` (nothing for an empty address); the external id
    defaults to `mail:<template>:<address>`."""
    if not to_email:
        return
    mail = mail_pb2.MailRequested(
        template=template, to_email=to_email, to_name=to_name, locale="en", variables=variables
    )
    add_direct(outbox, topology.MAIL, mail, external_id or f"mail:{template}:{to_email}")

"""The relay's publisher when no broker is configured: mail rows go to a `MailSink` instead.

Without AMQP_URL, events stay in the outbox; but a local run must still be able to follow an
invitation, whose token only travels by mail. So the relay then claims the rows of the mail
exchange alone and hands each `MailRequested` to the sink (`MAIL_SINK_DIR`); every other event
stays pending, as before. With a broker nothing changes: mail goes to RabbitMQ like the rest.
"""

from __future__ import annotations

from datetime import UTC

from devinsider.common.v1.mail_pb2 import MailRequested
from devinsider_common.mail import MailSink, mail_from_request
from devinsider_common.outbox.amqp import MessageRejectedError
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.topology import MAIL

# What this publisher takes: the relay claims only these rows.
EXCHANGES = (MAIL,)


class MailSinkPublisher:
    def __init__(self, sink: MailSink) -> None:
        self._sink = sink

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: str | bytes,
        message_id: str,
        event_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Deliver a `MailRequested` to the sink; `headers` (the trace context) have nowhere to go."""
        if exchange not in EXCHANGES:
            raise MessageRejectedError(f"the mail sink takes {MAIL} only, not {exchange!r}")
        envelope = from_json(body)
        request = unpack_payload(envelope, MailRequested)  # ValueError: another type, the row fails
        self._sink.deliver(mail_from_request(request, message_id, envelope.occur_time.ToDatetime(tzinfo=UTC)))

    def keepalive(self) -> None:
        """Nothing to keep alive: the sink holds no connection."""

    def close(self) -> None:
        """Nothing to close."""

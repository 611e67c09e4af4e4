"""`make run` with a broker plays the mail service: every `MailRequested` on `mail.exchange.direct` is
rendered from the templates and written to the local mail sink (`MAIL_SINK_DIR`), as the services' relays
do themselves without a broker. So every mail of a local run can be read in `var/mail`, those the
notification service sends from other services' events included (they need a broker).

The queue `local.mail-sink` (bound like the seed's `mail_service_queue`, which keeps its copies for a real
mail service) is consumed by scripts/run_local.py through the shared consumer runtime. A file per
message id: a redelivery rewrites the same file, so no inbox is needed."""

from __future__ import annotations

from datetime import UTC

from devinsider.common.v1.mail_pb2 import MailRequested
from devinsider_common.consumer import ConsumerQueue, Delivery, Subscription
from devinsider_common.mail.message import mail_from_request
from devinsider_common.mail.sink import MailSink
from devinsider_common.outbox.topology import MAIL, Binding, direct_routing_key

QUEUE = "local.mail-sink"


def local_mail_subscription(sink: MailSink) -> Subscription:
    """Consume `local.mail-sink` into `sink`."""
    queue = ConsumerQueue(QUEUE, (Binding(MAIL, QUEUE, direct_routing_key(MAIL)),))

    def deliver(delivery: Delivery) -> bool:
        request = delivery.payload(MailRequested)  # another type can never be a mail: dead-lettered
        created_at = delivery.envelope.occur_time.ToDatetime(tzinfo=UTC)
        sink.deliver(mail_from_request(request, delivery.message_id, created_at))
        return True

    return Subscription(queue, deliver)

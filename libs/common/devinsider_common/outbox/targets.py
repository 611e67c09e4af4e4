"""Where a service's relay sends outbox rows, from its settings: RabbitMQ, the mail sink, or nowhere."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import structlog

from devinsider_common.mail import FileMailSink
from devinsider_common.outbox import mail_sink
from devinsider_common.outbox.amqp import AmqpPublisher, Publisher
from devinsider_common.settings import BrokerSettings

log = structlog.get_logger("devinsider.outbox.relay")

# The publisher, and the exchanges whose rows it takes (None: every row).
RelayTarget = tuple[Publisher, Collection[str] | None]


def relay_target(settings: BrokerSettings) -> RelayTarget | None:
    """RabbitMQ with AMQP_URL, for every row; else with MAIL_SINK_DIR the mail rows alone, to files
    (the other events stay pending); else None, and every event stays in the outbox."""
    if settings.amqp_url:
        if settings.mail_sink_dir:
            log.warning("mail_sink_ignored", reason="AMQP_URL is set: mail goes to RabbitMQ like every event")
        return AmqpPublisher(settings.amqp_url), None
    if settings.mail_sink_dir:
        log.info("outbox_relay_mail_sink", directory=settings.mail_sink_dir, reason="AMQP_URL is not set")
        return mail_sink.MailSinkPublisher(FileMailSink(Path(settings.mail_sink_dir))), mail_sink.EXCHANGES
    log.info("outbox_relay_disabled", reason="AMQP_URL is not set; events stay in the outbox")
    return None

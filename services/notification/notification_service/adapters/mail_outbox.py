"""`ports.MailOutbox`: a `MailRequested` on `mail.exchange.direct`, written to the outbox in the caller's
transaction (the relay publishes it, or hands it to the local mail sink without a broker)."""

from __future__ import annotations

from collections.abc import Mapping

from devinsider.common.v1.mail_pb2 import MailRequested
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter, add_direct


class OutboxMail:
    def __init__(self, outbox: OutboxWriter) -> None:
        self._outbox = outbox

    def send(
        self,
        template: str,
        to_email: str,
        to_name: str,
        locale: str,
        variables: Mapping[str, str],
        external_id: str,
    ) -> None:
        mail = MailRequested(
            template=template, to_email=to_email, to_name=to_name, locale=locale, variables=dict(variables)
        )
        add_direct(self._outbox, topology.MAIL, mail, external_id)

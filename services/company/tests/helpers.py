"""What the integration tests read from a running service's database: the outbox it wrote."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from google.protobuf.message import Message
from sqlalchemy import select

from company_service.bootstrap import CompanyService
from devinsider.common.v1 import mail_pb2
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages

MAIL_TYPE = "devinsider.common.v1.MailRequested"


@dataclass
class OutboxRow:
    exchange: str
    routing_key: str
    event_type: str
    external_id: str
    body: str


def outbox(service: CompanyService, event_type: str = "") -> list[OutboxRow]:
    """Every event the service wrote so far (of `event_type`, without the package, when given), oldest first."""
    query = select(outbox_messages).order_by(outbox_messages.c.id)
    with service.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    found = [
        OutboxRow(r["exchange"], r["routing_key"], r["event_type"], from_json(r["body"]).external_id, r["body"])
        for r in rows
    ]
    return [r for r in found if not event_type or r.event_type.rsplit(".", 1)[1] == event_type]


def event_types(service: CompanyService) -> list[str]:
    """The short type names of the Odoo events written so far, oldest first (mails left out)."""
    return [r.event_type.rsplit(".", 1)[1] for r in outbox(service) if r.event_type != MAIL_TYPE]


def payload(row: OutboxRow, message: type[Message]) -> Message:
    return unpack_payload(from_json(row.body), message)


def mails(service: CompanyService, template: str) -> list[mail_pb2.MailRequested]:
    found = [unpack_payload(from_json(r.body), mail_pb2.MailRequested) for r in outbox(service, "MailRequested")]
    return [m for m in found if m.template == template]


def invitation_token(service: CompanyService, invitation_name: str) -> str:
    """The one-time token, as the invitee finds it in the invitation mail."""
    for mail in mails(service, "company_invitation"):
        query = parse_qs(urlparse(mail.variables["accept_url"]).query)
        if query["invitation"] == [invitation_name]:
            return query["token"][0]
    raise AssertionError(f"no invitation mail for {invitation_name}")

"""Test helpers: seeding pages straight through the unit of work, reading what the outbox holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlparse

from google.protobuf.message import Message
from sqlalchemy import select

from company_service.bootstrap import CompanyService
from company_service.domain.model import Claim, Company, CompanyContent, CompanyState
from company_service.service_layer.unit_of_work import CompanyUnitOfWork
from devinsider.common.v1 import mail_pb2
from devinsider_common.ids import new_id
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.model import Member
from devinsider_common.pages.roles import PageRole


def uow(service: CompanyService) -> CompanyUnitOfWork:
    return CompanyUnitOfWork(service.engine, "http://web.test", lambda company_id: f"/logo/{company_id}")


def seed_company(
    service: CompanyService,
    now: datetime,
    members: dict[str, PageRole],
    state: CompanyState = CompanyState.ACTIVE,
    claim: Claim | None = None,
    **content: object,
) -> str:
    """A page with the given members (subject -> role), written directly; returns its id."""
    values: dict[str, object] = {"display_name": "Seeded", "website_url": "https://seeded.io"} | content
    company = Company(
        new_id(), CompanyContent(**values), state, claim=claim, founder=claim.subject if claim else "",  # type: ignore[arg-type]
        created_at=now, updated_at=now,
    )  # fmt: skip
    with uow(service) as unit:
        unit.companies.add(company)
        for subject, role in members.items():
            email = f"{subject}@example.com"
            unit.members.add(Member(company.id, subject, role, "", subject, email, now, now))
        unit.commit()
    return company.id


@dataclass
class OutboxRow:
    exchange: str
    routing_key: str
    event_type: str
    external_id: str
    payload: Message | None = None


def outbox(service: CompanyService) -> list[OutboxRow]:
    """Every event the service wrote so far, oldest first."""
    query = select(outbox_messages).order_by(outbox_messages.c.id)
    with service.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    found = []
    for row in rows:
        envelope = from_json(row["body"])
        found.append(OutboxRow(row["exchange"], row["routing_key"], row["event_type"], envelope.external_id))
    return found


def mails(service: CompanyService, template: str) -> list[mail_pb2.MailRequested]:
    with service.engine.connect() as connection:
        rows = connection.execute(
            select(outbox_messages.c.body).where(outbox_messages.c.event_type == "devinsider.common.v1.MailRequested")
        ).scalars()
        found = [unpack_payload(from_json(body), mail_pb2.MailRequested) for body in rows]
    return [m for m in found if m.template == template]


def invitation_token(service: CompanyService, invitation_name: str) -> str:
    """The one-time token, as the invitee finds it in the invitation mail."""
    for mail in mails(service, "company_invitation"):
        query = parse_qs(urlparse(mail.variables["accept_url"]).query)
        if query["invitation"] == [invitation_name]:
            return query["token"][0]
    raise AssertionError(f"no invitation mail for {invitation_name}")

"""The investor events as the SQL unit of work stores them in the outbox: their exchanges, envelopes
and payloads, and the one-time invitation token only in the mail, never in the Odoo event."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import Engine, select

from devinsider.common.v1 import mail_pb2, page_pb2
from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider.investor.v1 import events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.model import Invitation, InvitationState, Member
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.fixtures import migrated_engine
from investor_service.bootstrap import MIGRATIONS
from investor_service.domain.model import Contact, Investor
from investor_service.service_layer.unit_of_work import SqlInvestorUnitOfWork

from ..fakes import new_profile

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ACCEPT_URL = "https://app.example/investors/invitations/accept"
PAGE = Investor(
    "01900000-0000-7000-8000-000000000001",
    new_profile("Northwind", contact=Contact(email="deals@northwind.example")),
    "kc-ada",
    created_at=NOW,
    updated_at=NOW,
)
OWNER = Member(PAGE.id, "kc-ada", PageRole.OWNER, "users/u-ada", "Ada Lovelace", "ada@example.com", NOW, NOW)
INVITATION = Invitation(
    "01900000-0000-7000-8000-0000000000aa",
    PAGE.id,
    "bob@example.com",
    PageRole.EDITOR,
    "users/u-ada",
    "hash",
    NOW,
    NOW + timedelta(days=7),
    "Welcome aboard",
)


@pytest.fixture
def engine(database: tuple[str, str]) -> Iterator[Engine]:
    with migrated_engine(database, MIGRATIONS) as migrated:
        yield migrated


def _stored(engine: Engine) -> list[tuple[str, str, EventEnvelope]]:
    query = select(outbox_messages.c.exchange, outbox_messages.c.routing_key, outbox_messages.c.body)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(outbox_messages.c.id)).all()
    return [(row.exchange, row.routing_key, from_json(row.body)) for row in rows]


def test_every_event_goes_to_the_investor_exchange_and_the_mail_to_the_mail_exchange(engine: Engine) -> None:
    with SqlInvestorUnitOfWork(engine, ACCEPT_URL) as uow:
        uow.events.investor_created(PAGE, "kc-ada")
        uow.events.member_added(OWNER, None)
        uow.events.invitation_sent(INVITATION, "secret-token", "Northwind", OWNER)
        accepted = replace(INVITATION, state=InvitationState.ACCEPTED, closed_at=NOW, member_id="kc-bob")
        uow.events.member_added(Member(PAGE.id, "kc-bob", PageRole.EDITOR), accepted)
        uow.events.invitation_changed(accepted)
        uow.events.member_updated(Member(PAGE.id, "kc-bob", PageRole.VIEWER), PageRole.EDITOR)
        uow.events.member_removed(Member(PAGE.id, "kc-bob", PageRole.VIEWER), left=True)
        uow.events.investor_updated(PAGE, ["tagline"])
        uow.events.investor_deleted(PAGE, "users/u-ada")
        uow.commit()
    with SqlInvestorUnitOfWork(engine, ACCEPT_URL) as uow:
        uow.events.investor_deleted(PAGE, "never committed")
    stored = _stored(engine)
    odoo = [(exchange, key, e) for exchange, key, e in stored if exchange == topology.ODOO_INVESTOR]
    mails = [(exchange, key, e) for exchange, key, e in stored if exchange == topology.MAIL]
    assert len(stored) == len(odoo) + len(mails) == 10
    assert {key for _, key, _ in odoo} == {topology.direct_routing_key(topology.ODOO_INVESTOR)}
    name, invitation_name = f"investors/{PAGE.id}", f"investors/{PAGE.id}/invitations/{INVITATION.id}"
    assert [(e.event_type.rsplit(".", 1)[1], e.external_id) for _, _, e in odoo] == [
        ("InvestorCreated", name),
        ("MemberAdded", f"{name}/members/u-ada"),
        ("InvitationSent", invitation_name),
        ("MemberAdded", f"{name}/members/kc-bob"),
        ("InvitationChanged", invitation_name),
        ("MemberUpdated", f"{name}/members/kc-bob"),
        ("MemberRemoved", f"{name}/members/kc-bob"),
        ("InvestorUpdated", name),
        ("InvestorDeleted", name),
    ]
    assert all(e.source == "investor" for _, _, e in stored)
    created = unpack_payload(odoo[0][2], events_pb2.InvestorCreated)
    assert created.creator == "kc-ada" and created.investor.contact.email == "deals@northwind.example"  # every field
    joined = unpack_payload(odoo[3][2], events_pb2.MemberAdded)
    assert joined.invitation == invitation_name and joined.member.role == page_pb2.PAGE_ROLE_EDITOR
    changed = unpack_payload(odoo[4][2], events_pb2.InvitationChanged)
    assert changed.invitation.state == page_pb2.INVITATION_STATE_ACCEPTED
    assert changed.previous_state == page_pb2.INVITATION_STATE_PENDING
    updated = unpack_payload(odoo[5][2], events_pb2.MemberUpdated)
    assert updated.previous_role == page_pb2.PAGE_ROLE_EDITOR and updated.member.role == page_pb2.PAGE_ROLE_VIEWER
    removed = unpack_payload(odoo[6][2], events_pb2.MemberRemoved)
    assert removed.reason == events_pb2.MEMBER_REMOVAL_REASON_LEFT
    assert list(unpack_payload(odoo[7][2], events_pb2.InvestorUpdated).changed_fields) == ["tagline"]
    assert unpack_payload(odoo[8][2], events_pb2.InvestorDeleted).deleter == "users/u-ada"
    # The token travels only in the mail to the invitee.
    sent = unpack_payload(odoo[2][2], events_pb2.InvitationSent)
    assert sent.invitation.email == "bob@example.com" and sent.invitation.page_display_name == "Northwind"
    assert all("secret-token" not in str(e) for _, _, e in odoo)
    [(_, mail_key, envelope)] = mails
    assert mail_key == topology.direct_routing_key(topology.MAIL) and envelope.external_id == invitation_name
    mail = unpack_payload(envelope, mail_pb2.MailRequested)
    assert (mail.template, mail.to_email, mail.locale) == ("investor_invitation", "bob@example.com", "en")
    link = urlparse(mail.variables["accept_url"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == ACCEPT_URL
    assert parse_qs(link.query) == {"invitation": [invitation_name], "token": ["secret-token"]}
    assert {k: v for k, v in mail.variables.items() if k != "accept_url"} == {
        "page_display_name": "Northwind",
        "inviter_name": "Ada Lovelace",
        "role": "editor",
        "expire_time": (NOW + timedelta(days=7)).isoformat(),
        "message": "Welcome aboard",
    }

"""Events leave the company service through its outbox to RabbitMQ, on the seed's exchanges."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import grpc
import pika
import pytest

from company_service.bootstrap import start
from devinsider.common.v1 import mail_pb2, page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc, events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import Received, bind_test_queue, drain
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.tokens import CallerFactory

from ..conftest import make_settings


def _collect(channel: object, queue: str, count: int) -> list[Received]:
    """Drain `queue` until `count` messages arrived (the relay runs in the background), 30 s at most."""
    found: list[Received] = []
    deadline = time.monotonic() + 30
    while len(found) < count and time.monotonic() < deadline:
        found += drain(channel, queue)
        if len(found) < count:
            time.sleep(0.05)
    return found


@pytest.mark.rabbitmq
def test_page_member_and_invitation_events_reach_odoo_and_the_invitation_mail_carries_the_token(
    tmp_path: Path, pg_schema: tuple[str, str], amqp_url: str, callers: CallerFactory
) -> None:
    url, schema = pg_schema
    broker = BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    topology.declare_topology(channel)
    odoo = bind_test_queue(channel, topology.ODOO_COMPANY, topology.direct_routing_key(topology.ODOO_COMPANY))
    mail = bind_test_queue(channel, topology.MAIL, topology.direct_routing_key(topology.MAIL))
    service = start(make_settings(tmp_path, url, schema, broker=broker), clock=FakeClock(), run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as grpc_channel:
            stub = company_pb2_grpc.CompanyServiceStub(grpc_channel)
            alice = callers("kc-alice")
            created = stub.CreateCompany(
                company_pb2.CreateCompanyRequest(company=company_pb2.Company(display_name="Acme")),
                metadata=alice.metadata,
            )
            invitation = stub.CreateInvitation(
                company_pb2.CreateInvitationRequest(
                    parent=created.name,
                    invitation=company_pb2.Invitation(email="bob@example.com", role=page_pb2.PAGE_ROLE_VIEWER),
                ),
                metadata=alice.metadata,
            )
            stub.DeleteCompany(company_pb2.DeleteCompanyRequest(name=created.name), metadata=alice.metadata)
        odoo_messages = _collect(channel, odoo, 6)
        mail_messages = _collect(channel, mail, 1)
    finally:
        service.stop(grace=0)
        connection.close()
    types = [m.properties.type for m in odoo_messages]
    assert types == [
        "devinsider.company.v1.CompanyCreated",
        "devinsider.company.v1.MemberAdded",
        "devinsider.company.v1.InvitationSent",
        "devinsider.company.v1.MemberRemoved",
        "devinsider.company.v1.InvitationChanged",
        "devinsider.company.v1.CompanyDeleted",
    ]
    envelopes = [from_json(m.body) for m in odoo_messages]
    for message, envelope in zip(odoo_messages, envelopes, strict=True):
        assert message.properties.delivery_mode == 2 and message.properties.message_id == envelope.event_id
        assert envelope.source == "company"
    assert envelopes[0].external_id == created.name
    assert unpack_payload(envelopes[0], events_pb2.CompanyCreated).company.display_name == "Acme"
    sent = unpack_payload(envelopes[2], events_pb2.InvitationSent)
    assert sent.invitation.name == invitation.name
    removed = unpack_payload(envelopes[3], events_pb2.MemberRemoved)
    assert removed.reason == events_pb2.MEMBER_REMOVAL_REASON_PAGE_DELETED
    changed = unpack_payload(envelopes[4], events_pb2.InvitationChanged)
    assert changed.invitation.state == page_pb2.INVITATION_STATE_REVOKED
    assert changed.previous_state == page_pb2.INVITATION_STATE_PENDING
    assert unpack_payload(envelopes[5], events_pb2.CompanyDeleted).deleter == "kc-alice"
    (invite_mail,) = [unpack_payload(from_json(m.body), mail_pb2.MailRequested) for m in mail_messages]
    assert invite_mail.template == "company_invitation" and invite_mail.to_email == "bob@example.com"
    accept = parse_qs(urlparse(invite_mail.variables["accept_url"]).query)
    token = accept["token"][0]
    assert accept["invitation"] == [invitation.name] and len(token) >= 32
    assert not any(token.encode() in m.body for m in odoo_messages)  # the token travels in the mail only

"""Events reach RabbitMQ through the outbox relay: the seed's exchanges, envelopes, no token to Odoo."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pika
from google.protobuf.message import Message

from devinsider.common.v1 import mail_pb2, page_pb2
from devinsider.investor.v1 import events_pb2, investor_pb2, investor_pb2_grpc
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import Received, bind_test_queue, drain
from devinsider_common.testing.tokens import CallerFactory
from investor_service.bootstrap import start

from ..conftest import make_settings, new_investor


def _collect(channel: pika.adapters.blocking_connection.BlockingChannel, queue: str, count: int) -> list[Received]:
    messages: list[Received] = []
    deadline = time.monotonic() + 30  # a bound on waiting for the relay, not a timing assertion
    while len(messages) < count and time.monotonic() < deadline:
        messages += drain(channel, queue)
        if len(messages) < count:
            connection = channel.connection
            connection.sleep(0.05)
    return messages


def test_page_member_and_invitation_events_are_published(
    tmp_path: Path, database: tuple[str, str], amqp_url: str, callers: CallerFactory
) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    topology.declare_topology(channel)
    odoo = bind_test_queue(channel, topology.ODOO_INVESTOR, topology.direct_routing_key(topology.ODOO_INVESTOR))
    mail = bind_test_queue(channel, topology.MAIL, topology.direct_routing_key(topology.MAIL))
    broker = BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05)
    service = start(make_settings(tmp_path, *database, broker=broker), run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as grpc_channel:
            stub = investor_pb2_grpc.InvestorServiceStub(grpc_channel)
            owner = callers("kc-owner", ("investor",)).metadata
            page = stub.CreateInvestor(investor_pb2.CreateInvestorRequest(investor=new_investor()), metadata=owner)
            invitation = stub.CreateInvitation(
                investor_pb2.CreateInvitationRequest(
                    parent=page.name,
                    invitation=investor_pb2.Invitation(email="bob@example.com", role=page_pb2.PAGE_ROLE_EDITOR),
                ),
                metadata=owner,
            )
            stub.RevokeInvitation(investor_pb2.RevokeInvitationRequest(name=invitation.name), metadata=owner)
            stub.DeleteInvestor(investor_pb2.DeleteInvestorRequest(name=page.name), metadata=owner)
        events = _collect(channel, odoo, 5)
        mails = _collect(channel, mail, 1)
    finally:
        service.stop(grace=0)
        connection.close()
    types = [m.properties.type for m in events]
    assert types == [
        "devinsider.investor.v1.InvestorCreated",
        "devinsider.investor.v1.MemberAdded",
        "devinsider.investor.v1.InvitationSent",
        "devinsider.investor.v1.InvitationChanged",
        "devinsider.investor.v1.InvestorDeleted",
    ]
    envelopes = [from_json(m.body) for m in events]
    for message, envelope in zip(events, envelopes, strict=True):
        assert message.properties.delivery_mode == 2 and message.properties.message_id == envelope.event_id
        assert envelope.source == "investor"
    assert [e.external_id for e in envelopes] == [
        page.name,
        f"{page.name}/members/kc-owner",
        invitation.name,
        invitation.name,
        page.name,
    ]
    payloads: list[Message] = [
        unpack_payload(envelopes[0], events_pb2.InvestorCreated),
        unpack_payload(envelopes[3], events_pb2.InvitationChanged),
    ]
    assert payloads[0].investor.display_name == "Northwind Ventures"  # type: ignore[attr-defined]
    assert payloads[1].invitation.state == page_pb2.INVITATION_STATE_REVOKED  # type: ignore[attr-defined]
    [mailed] = mails
    request = unpack_payload(from_json(mailed.body), mail_pb2.MailRequested)
    assert request.to_email == "bob@example.com" and "token=" in request.variables["accept_url"]
    assert b"token=" not in events[2].body

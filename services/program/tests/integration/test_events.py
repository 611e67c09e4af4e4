"""Events leave the program service through its outbox onto the seed's exchanges: the envelopes that
reach bound test queues on RabbitMQ, and the invitation token only in the mail."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import grpc
import pika
import pytest

from devinsider.common.v1 import mail_pb2, page_pb2
from devinsider.program.v1 import events_pb2, program_pb2_grpc
from devinsider.program.v1 import program_pb2 as P  # noqa: N812 - short name for many messages
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import Received, bind_test_queue, drain
from program_service.bootstrap import start

from ..company_double import CompanyDouble
from ..conftest import TokenFactory, make_settings
from ..world import COMPANY, World, build_world


def _collect(channel: Any, queue: str, count: int) -> list[Received]:
    """Wait (bounded) until `count` messages arrived; what arrived is then asserted exactly."""
    received: list[Received] = []
    deadline = time.monotonic() + 20
    while len(received) < count and time.monotonic() < deadline:
        received += drain(channel, queue)
        time.sleep(0.05)
    return received + drain(channel, queue)


@pytest.mark.slow
def test_program_member_and_mail_events_reach_rabbitmq(
    tmp_path: Path, pg_schema: tuple[str, str], amqp_url: str, company: CompanyDouble, token: TokenFactory
) -> None:
    broker = BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05)
    service = start(make_settings(tmp_path, *pg_schema, company.target, broker=broker), run_jobs=False)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    topology.declare_topology(channel)
    odoo_members = bind_test_queue(
        channel, topology.ODOO_PROGRAM_MEMBER, topology.direct_routing_key(topology.ODOO_PROGRAM_MEMBER)
    )
    odoo_programs = bind_test_queue(channel, topology.ODOO_PROGRAM, topology.direct_routing_key(topology.ODOO_PROGRAM))
    mails = bind_test_queue(channel, topology.MAIL, topology.direct_routing_key(topology.MAIL))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as grpc_channel:
            world: World = build_world(program_pb2_grpc.ProgramServiceStub(grpc_channel), service, company, token)
            world.stub.ApproveApplication(
                P.ApproveApplicationRequest(name=world.application), metadata=world.caller("owner")
            )
            invitation, secret = world.invite(world.published, "zoe@example.com", page_pb2.PAGE_ROLE_VIEWER)

        member_events = _collect(channel, odoo_members, 2)
        assert [m.properties.type for m in member_events] == [
            "devinsider.program.v1.ApplicationCreated",
            "devinsider.program.v1.ApplicationUpdated",
        ]
        for message in member_events:
            envelope = from_json(message.body)
            assert message.properties.delivery_mode == 2 and envelope.event_id == message.properties.message_id
            assert envelope.external_id == world.application and envelope.source == "program"
        updated = unpack_payload(from_json(member_events[1].body), events_pb2.ApplicationUpdated)
        assert updated.previous_state == P.APPLICATION_STATE_PENDING
        assert updated.application.state == P.APPLICATION_STATE_APPROVED and updated.application.company == COMPANY

        # 3 programs created, 2 published, 9 members added (3 owners, 6 by invitation), 7 invitations sent, 6 accepted
        program_events = _collect(channel, odoo_programs, 27)
        types = [m.properties.type.rpartition(".")[2] for m in program_events]
        counts = {t: types.count(t) for t in set(types)}
        assert counts == {
            "ProgramCreated": 3,
            "ProgramUpdated": 2,
            "MemberAdded": 9,
            "InvitationSent": 7,
            "InvitationChanged": 6,
        }
        sent = [
            unpack_payload(from_json(m.body), events_pb2.InvitationSent)
            for m in program_events
            if m.properties.type == "devinsider.program.v1.InvitationSent"
        ]
        assert invitation in [s.invitation.name for s in sent]
        assert all(secret.encode() not in m.body for m in program_events)  # the token never goes to Odoo

        mail_messages = [
            unpack_payload(from_json(m.body), mail_pb2.MailRequested) for m in _collect(channel, mails, 10)
        ]
        assert len(mail_messages) == 10
        by_template: dict[str, list[mail_pb2.MailRequested]] = {}
        for mail in mail_messages:
            by_template.setdefault(mail.template, []).append(mail)
        received = by_template["program_application_received"]
        assert sorted(m.to_email for m in received) == ["kc-admin@example.com", "kc-owner@example.com"]
        assert [m.to_email for m in by_template["program_application_approved"]] == ["kc-co_editor@example.com"]
        zoe = [m for m in by_template["program_invitation"] if m.to_email == "zoe@example.com"]
        assert len(zoe) == 1 and secret in zoe[0].variables["accept_url"]
        assert zoe[0].variables["page_display_name"] == "Azure Partners" and zoe[0].variables["role"] == "viewer"
    finally:
        service.stop(grace=0)
        connection.close()

"""Events leave the program service through its outbox onto the seed's exchanges: the relay the
service starts when AMQP_URL is set delivers the envelopes to bound test queues on RabbitMQ. Which
events and mails each change produces is `tests/adapters/test_event_publisher.py`."""

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
from devinsider_common.pages.roles import PageRole
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import Received, bind_test_queue, drain
from devinsider_common.testing.tokens import CallerFactory
from program_service.bootstrap import start

from ..company_double import CompanyDouble
from ..conftest import make_settings, new_program


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
    tmp_path: Path, pg_schema: tuple[str, str], amqp_url: str, company: CompanyDouble, callers: CallerFactory
) -> None:
    broker = BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05)
    service = start(make_settings(tmp_path, *pg_schema, company.target, broker=broker), run_jobs=False)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    topology.declare_topology(channel)
    queues = {
        exchange: bind_test_queue(channel, exchange, topology.direct_routing_key(exchange))
        for exchange in (topology.ODOO_PROGRAM, topology.ODOO_PROGRAM_MEMBER, topology.MAIL)
    }
    owner, ann = callers("kc-owner", ("program",)).metadata, callers("kc-ann", ("isv",)).metadata
    company.grant("companies/c-acme", "kc-ann", PageRole.EDITOR)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as grpc_channel:
            stub = program_pb2_grpc.ProgramServiceStub(grpc_channel)
            program = stub.CreateProgram(P.CreateProgramRequest(program=new_program()), metadata=owner).name
            stub.PublishProgram(P.PublishProgramRequest(name=program), metadata=owner)
            invitation = P.Invitation(email="zoe@example.com", role=page_pb2.PAGE_ROLE_VIEWER)
            stub.CreateInvitation(P.CreateInvitationRequest(parent=program, invitation=invitation), metadata=owner)
            application = P.Application(company="companies/c-acme")
            applied = stub.CreateApplication(
                P.CreateApplicationRequest(parent=program, application=application), metadata=ann
            ).name

        programs = _collect(channel, queues[topology.ODOO_PROGRAM], 4)
        assert [m.properties.type.rpartition(".")[2] for m in programs] == [
            "ProgramCreated",
            "MemberAdded",
            "ProgramUpdated",
            "InvitationSent",
        ]
        for message in programs:
            envelope = from_json(message.body)
            assert message.properties.delivery_mode == 2 and envelope.event_id == message.properties.message_id
            assert envelope.source == "program"
        assert from_json(programs[0].body).external_id == program
        members = _collect(channel, queues[topology.ODOO_PROGRAM_MEMBER], 1)
        assert [m.properties.type for m in members] == ["devinsider.program.v1.ApplicationCreated"]
        created = unpack_payload(from_json(members[0].body), events_pb2.ApplicationCreated)
        assert created.application.name == applied
        mails = [
            unpack_payload(from_json(m.body), mail_pb2.MailRequested)
            for m in _collect(channel, queues[topology.MAIL], 2)
        ]
        assert sorted((m.template, m.to_email) for m in mails) == [
            ("program_application_received", "kc-owner@example.com"),
            ("program_invitation", "zoe@example.com"),
        ]
    finally:
        service.stop(grace=0)
        connection.close()

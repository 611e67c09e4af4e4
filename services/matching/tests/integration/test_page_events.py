"""Matching follows the pages over the real RabbitMQ: a company's deletion, published on the company
service's exchange with its routing key (as its outbox relay does), reaches `matching.pages` and hides
the company from the program's matches, without the status refresh (its period is a day here). The rules
are tested on the fakes in tests/unit/test_page_events.py."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest

from devinsider.company.v1 import events_pb2 as company_events
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider.matching.v1 import matching_pb2_grpc
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import build_envelope, to_json
from devinsider_common.outbox.topology import ODOO_COMPANY, direct_routing_key
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.tokens import CallerFactory
from matching_service.service_layer.unit_of_work import SqlMatchingUnitOfWork

from ..conftest import PageWorld, make_settings, start_matching
from ..protos import set_profile

pytestmark = pytest.mark.rabbitmq

ACME = "companies/acme"


def publish_deletion(amqp_url: str, name: str) -> None:
    """CompanyDeleted as the company service's relay publishes it (exchange, routing key, message id, type)."""
    envelope = build_envelope(
        company_events.CompanyDeleted(name=name, deleter="kc-alice"), source="company", external_id=name
    )
    publisher = AmqpPublisher(amqp_url)
    try:
        publisher.publish(
            ODOO_COMPANY, direct_routing_key(ODOO_COMPANY), to_json(envelope), envelope.event_id, envelope.event_type
        )
    finally:
        publisher.close()


def test_a_deleted_company_leaves_the_matches_once_its_event_is_consumed(
    tmp_path: Path,
    database: tuple[str, str],
    page_services: str,
    world: PageWorld,
    callers: CallerFactory,
    amqp_url: str,
) -> None:
    settings = make_settings(
        tmp_path,
        *database,
        page_services,
        page_status_refresh_seconds=86_400.0,  # the poll never runs during the test
        broker=BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05),
    )
    service = start_matching(settings)
    try:
        assert service.wait_until_consuming()  # `matching.pages` exists and is bound
        alice, pat = callers("alice").metadata, callers("pat", ("program",)).metadata
        fintech = {"industries": ["fintech"]}
        world.add(ACME, owner="alice", display_name="Acme", facts=fintech)  # the company service keeps it live
        world.add("programs/p", owner="pat", display_name="Partner Program", facts=fintech)
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = matching_pb2_grpc.MatchingServiceStub(channel)
            set_profile(stub, ACME, alice)
            set_profile(stub, "programs/p", pat)
            listing = pb.ListProgramMatchesRequest(parent="programs/p")
            assert [m.summary.page.name for m in stub.ListProgramMatches(listing, metadata=pat).matches] == [ACME]
            calls = len(world.batch_calls)

            publish_deletion(amqp_url, ACME)
            deadline = time.monotonic() + 15
            matches = [ACME]
            while matches and time.monotonic() < deadline:
                time.sleep(0.05)
                matches = [m.summary.page.name for m in stub.ListProgramMatches(listing, metadata=pat).matches]
            assert matches == []
        with SqlMatchingUnitOfWork(service.runtime.engine) as uow:
            status = uow.statuses.get_many([ACME])[ACME]
        assert (status.active, status.display_name) == (False, "Acme")  # inactive, summary kept
        assert len(world.batch_calls) == calls  # no page service was asked: the event alone did it
    finally:
        service.stop(grace=0)

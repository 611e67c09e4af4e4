"""Matching follows the pages over the real RabbitMQ: a company's deletion, published on the company
service's exchange with its routing key (as its outbox relay does), reaches `matching.pages` and hides
the company from the program's matches, and an update drops the company's cached summary, without the
status refresh (its period is a day here). The rules are tested on the fakes in
tests/unit/test_page_events.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message

from devinsider.company.v1 import company_pb2
from devinsider.company.v1 import events_pb2 as company_events
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider.matching.v1 import matching_pb2_grpc
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import build_envelope, to_json
from devinsider_common.outbox.topology import ODOO_COMPANY, direct_routing_key
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.services import Metadata
from devinsider_common.testing.tokens import CallerFactory
from matching_service.bootstrap import MatchingService
from matching_service.service_layer.unit_of_work import SqlMatchingUnitOfWork

from ..conftest import PageWorld, make_settings, start_matching
from ..protos import set_profile

pytestmark = pytest.mark.rabbitmq

ACME = "companies/acme"


def publish_deletion(amqp_url: str, name: str) -> None:
    publish(amqp_url, name, company_events.CompanyDeleted(name=name, deleter="kc-alice"))


def publish(amqp_url: str, name: str, event: Message) -> None:
    """`event` as the company service's relay publishes it (exchange, routing key, message id, type)."""
    envelope = build_envelope(event, source="company", external_id=name)
    publisher = AmqpPublisher(amqp_url)
    try:
        publisher.publish(
            ODOO_COMPANY, direct_routing_key(ODOO_COMPANY), to_json(envelope), envelope.event_id, envelope.event_type
        )
    finally:
        publisher.close()


@dataclass
class Followed:
    """A matching service consuming `matching.pages`, with Acme matching the program `programs/p`."""

    service: MatchingService
    stub: matching_pb2_grpc.MatchingServiceStub
    pat: Metadata  # the program owner's call metadata

    def listed(self) -> list[pb.Match]:
        listing = pb.ListProgramMatchesRequest(parent="programs/p")
        return list(self.stub.ListProgramMatches(listing, metadata=self.pat).matches)


@pytest.fixture
def followed(
    tmp_path: Path,
    database: tuple[str, str],
    page_services: str,
    world: PageWorld,
    callers: CallerFactory,
    amqp_url: str,
) -> Iterator[Followed]:
    settings = make_settings(
        tmp_path,
        *database,
        page_services,
        page_status_refresh_seconds=86_400.0,  # the poll never runs during the test
        broker=BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05),
    )
    assert settings.page_summary_cache_ttl_seconds == 60.0  # the default: only an event refreshes a summary here
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
            yield Followed(service, stub, pat)
    finally:
        service.stop(grace=0)


def test_a_deleted_company_leaves_the_matches_once_its_event_is_consumed(
    followed: Followed, world: PageWorld, amqp_url: str
) -> None:
    assert [m.summary.page.name for m in followed.listed()] == [ACME]
    calls = len(world.batch_calls)

    publish_deletion(amqp_url, ACME)
    deadline = time.monotonic() + 15
    matches = [ACME]
    while matches and time.monotonic() < deadline:
        time.sleep(0.05)
        matches = [m.summary.page.name for m in followed.listed()]
    assert matches == []
    with SqlMatchingUnitOfWork(followed.service.runtime.engine) as uow:
        status = uow.statuses.get_many([ACME])[ACME]
    assert (status.active, status.display_name) == (False, "Acme")  # inactive, summary kept
    assert len(world.batch_calls) == calls  # no page service was asked: the event alone did it


def test_a_listed_summary_is_cached_until_the_pages_event_drops_it(
    followed: Followed, world: PageWorld, amqp_url: str
) -> None:
    def shown() -> list[str]:
        return [m.summary.display_name for m in followed.listed()]

    assert shown() == ["Acme"]
    calls = len(world.batch_calls)
    world.pages[ACME].display_name = "Acme Corp"  # edited in the company service
    assert shown() == ["Acme"]  # the cached summary: no BatchGetCompanies
    assert len(world.batch_calls) == calls

    edited = company_pb2.Company(
        name=ACME,
        state=company_pb2.COMPANY_STATE_ACTIVE,
        completeness=company_pb2.CompanyCompleteness(program_matchmaking=True, investor_matchmaking=True),
        display_name="Acme Corp",
        industries=["fintech"],
    )
    publish(amqp_url, ACME, company_events.CompanyUpdated(company=edited, changed_fields=["display_name"]))
    deadline = time.monotonic() + 15
    while shown() != ["Acme Corp"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shown() == ["Acme Corp"]  # the event dropped the entry: asked afresh, then cached again
    assert world.batch_calls[calls:] == [("companies", (ACME,))]

"""Two replicas on one PostgreSQL schema stay in step; events leave through the outbox to RabbitMQ."""

from __future__ import annotations

from pathlib import Path

import grpc
import pika

from devinsider.common.v1 import page_pb2
from devinsider.matching.v1 import events_pb2, matching_pb2_grpc
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.amqp import bind_test_queue, drain
from devinsider_common.testing.polling import wait_for

from ..conftest import PageWorld, TokenFactory, bearer, make_settings, start_matching
from .test_matching_api import IND, crit, set_profile


def test_a_change_on_one_replica_reaches_the_other(
    tmp_path: Path, pg_schema: tuple[str, str], page_services: str, world: PageWorld, token: TokenFactory
) -> None:
    url, schema = pg_schema
    one = start_matching(make_settings(tmp_path, url, schema, page_services))
    two = start_matching(make_settings(tmp_path, url, schema, page_services))
    alice, pat = bearer(token("alice")), bearer(token("pat", roles=("program",)))
    world.add("companies/acme", owner="alice")
    world.add("programs/p", owner="pat")
    listing = pb.ListCompanyMatchesRequest(parent="companies/acme", target_kind=page_pb2.PAGE_KIND_PROGRAM)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{one.port}") as c1, grpc.insecure_channel(f"127.0.0.1:{two.port}") as c2:
            s1, s2 = matching_pb2_grpc.MatchingServiceStub(c1), matching_pb2_grpc.MatchingServiceStub(c2)
            set_profile(s1, "companies/acme", alice, crit(IND, "fintech", "retail"))
            set_profile(s1, "programs/p", pat, crit(IND, "fintech"))
            assert [m.score for m in s1.ListCompanyMatches(listing, metadata=alice).matches] == [100.0]
            assert wait_for(
                lambda: [m.score for m in s2.ListCompanyMatches(listing, metadata=alice).matches] == [100.0]
            )
            set_profile(s2, "programs/p", pat, crit(IND, "fintech", "edtech"))  # now written on the other replica
            assert [m.score for m in s2.ListCompanyMatches(listing, metadata=alice).matches] == [50.0]
            assert wait_for(lambda: [m.score for m in s1.ListCompanyMatches(listing, metadata=alice).matches] == [50.0])
            assert one.app.sync.seq == two.app.sync.seq
    finally:
        one.stop(grace=0)
        two.stop(grace=0)


def test_events_reach_the_matching_exchange(
    tmp_path: Path, pg_schema: tuple[str, str], page_services: str, world: PageWorld, token: TokenFactory, amqp_url: str
) -> None:
    url, schema = pg_schema
    broker = BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05)
    service = start_matching(
        make_settings(tmp_path, url, schema, page_services, broker=broker, significant_match_score=60)
    )
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    topology.declare_topology(channel)
    queue = bind_test_queue(channel, topology.MATCHING, topology.direct_routing_key(topology.MATCHING))
    alice, pat = bearer(token("alice")), bearer(token("pat", roles=("program",)))
    world.add("companies/acme", owner="alice", display_name="Acme")
    world.add("programs/p", owner="pat", display_name="Partner Program")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as grpc_channel:
            stub = matching_pb2_grpc.MatchingServiceStub(grpc_channel)
            set_profile(stub, "companies/acme", alice, crit(IND, "fintech"))
            set_profile(stub, "programs/p", pat, crit(IND, "fintech"))
            set_profile(stub, "programs/p", pat, crit(IND, "fintech", "retail"))  # 50: below the threshold
            set_profile(stub, "programs/p", pat, crit(IND, "fintech"))  # 100 again, but already announced
            acme = page_pb2.PageRef(kind=page_pb2.PAGE_KIND_COMPANY, name="companies/acme")
            stub.CreateBlock(pb.CreateBlockRequest(parent="programs/p", block=pb.Block(page=acme)), metadata=pat)
        received = []

        def arrived() -> bool:
            received.extend(drain(channel, queue))
            return len(received) >= 6

        assert wait_for(arrived, 20)
        envelopes = [from_json(m.body) for m in received]
        types = [e.event_type for e in envelopes]
        assert types.count("devinsider.matching.v1.CriteriaProfileUpdated") == 4
        assert types.count("devinsider.matching.v1.MatchFound") == 1
        assert types.count("devinsider.matching.v1.BlockCreated") == 1
        found = unpack_payload(next(e for e in envelopes if e.event_type.endswith("MatchFound")), events_pb2.MatchFound)
        assert (found.company, found.target.name, found.score) == ("companies/acme", "programs/p", 100.0)
        assert found.company_summary.display_name == "Acme" and found.target_summary.display_name == "Partner Program"
    finally:
        service.stop(grace=0)
        connection.close()

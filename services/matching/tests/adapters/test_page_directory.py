"""The page directory over gRPC: the owning services' answers mapped to statuses, one batch call per
service and 200 names, CheckPageAccess for permissions, and an outage as UNAVAILABLE."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from devinsider.company.v1 import company_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider.program.v1 import program_pb2
from devinsider_common.cache import InMemoryCache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageKind
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.testing.failures import failure
from matching_service.adapters.page_directory import (
    BATCH,
    GrpcPageDirectory,
    company_status,
    investor_status,
    program_status,
)

from ..conftest import PageWorld


@pytest.fixture
def directory(page_services: str) -> Iterator[GrpcPageDirectory]:
    channels = ChannelFactory()
    yield GrpcPageDirectory(channels, dict.fromkeys(PageKind, page_services), InMemoryCache(), 60.0)
    channels.close()


def test_the_owning_services_answers_become_statuses() -> None:
    company = company_status(
        company_pb2.Company(
            name="companies/acme",
            state=company_pb2.COMPANY_STATE_ACTIVE,
            completeness=company_pb2.CompanyCompleteness(program_matchmaking=True),
            display_name="Acme",
            hq_country_code="FR",
        )
    )
    assert (company.page.name, company.active, company.program_complete, company.investor_complete) == (
        "companies/acme",
        True,
        True,
        False,
    )
    assert (company.display_name, company.country_code) == ("Acme", "FR")
    investor = investor_status(investor_pb2.Investor(name="investors/vc", state=investor_pb2.INVESTOR_STATE_DELETED))
    assert (investor.page.kind, investor.active) == (PageKind.INVESTOR, False)
    one = program_status(
        program_pb2.Program(
            name="programs/p",
            state=program_pb2.PROGRAM_STATE_PUBLISHED,
            vendor_company="companies/acme",
            country_codes=["DE"],
        )
    )
    assert (one.active, one.vendor_company, one.country_code) == (True, "companies/acme", "DE")
    assert program_status(program_pb2.Program(name="programs/q", country_codes=["DE", "FR"])).country_code == ""


def test_statuses_take_one_batch_call_per_service_and_batch(directory: GrpcPageDirectory, world: PageWorld) -> None:
    world.add("companies/acme", display_name="Acme")
    world.add("investors/vc", active=False)
    programs = [f"programs/p{i:03d}" for i in range(BATCH + 1)]
    for name in programs:
        world.add(name)
    found = directory.statuses(
        ["companies/acme", "investors/vc", "companies/ghost", "users/u1", *programs, "companies/acme"]
    )
    assert set(found) == {"companies/acme", "investors/vc", *programs}
    assert found["companies/acme"].display_name == "Acme" and not found["investors/vc"].active
    calls = sorted((kind, len(names)) for kind, names in world.batch_calls)
    assert calls == [("companies", 2), ("investors", 1), ("programs", 1), ("programs", BATCH)]
    assert directory.statuses([]) == {}


def test_summaries_are_cached_until_the_page_event_forgets_them(page_services: str, world: PageWorld) -> None:
    channels = ChannelFactory()
    cache = InMemoryCache()
    directory = GrpcPageDirectory(channels, dict.fromkeys(PageKind, page_services), cache, 60.0, 60.0)
    try:
        world.add("investors/vc", display_name="VC")
        world.add("programs/p", display_name="P")
        assert {n: s.display_name for n, s in directory.summaries(["investors/vc", "programs/ghost"]).items()} == {
            "investors/vc": "VC"
        }
        assert sorted(world.batch_calls) == [("investors", ("investors/vc",)), ("programs", ("programs/ghost",))]
        world.batch_calls.clear()
        world.pages["investors/vc"].display_name = "VC renamed"
        found = directory.summaries(["investors/vc", "programs/p"])
        assert found["investors/vc"].display_name == "VC"  # from the cache: only the missing page is asked
        assert found["programs/p"].display_name == "P" and world.batch_calls == [("programs", ("programs/p",))]
        world.batch_calls.clear()
        directory.summaries(["investors/vc", "programs/p"])
        assert world.batch_calls == []  # both cached
        directory.forget("investors/vc")
        assert directory.summaries(["investors/vc", "programs/p"])["investors/vc"].display_name == "VC renamed"
        assert world.batch_calls == [("investors", ("investors/vc",))]
        assert directory.statuses(["programs/p"]) and len(world.batch_calls) == 2  # statuses: never cached
        cache.set("page_summary", "programs/p", b"\xff not a program", 60.0)  # unreadable: a miss
        assert directory.summaries(["programs/p"])["programs/p"].display_name == "P" and len(world.batch_calls) == 3
    finally:
        channels.close()


def test_a_zero_summary_ttl_caches_nothing(directory: GrpcPageDirectory, world: PageWorld) -> None:
    world.add("investors/vc")
    directory.summaries(["investors/vc"])
    directory.summaries(["investors/vc"])
    assert world.batch_calls == [("investors", ("investors/vc",))] * 2


def test_permissions_come_from_check_page_access_cached(directory: GrpcPageDirectory, world: PageWorld) -> None:
    world.add("companies/acme", owner="alice")
    world.members["companies/acme"]["vic"] = PageRole.VIEWER
    assert directory.require("companies/acme", "alice", PagePermission.EDIT) is PageRole.OWNER
    assert directory.allowed("companies/acme", "vic", PagePermission.VIEW_PRIVATE)
    assert not directory.allowed("companies/acme", "vic", PagePermission.EDIT)
    denied = failure(lambda: directory.require("companies/acme", "vic", PagePermission.EDIT))
    assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
    calls = world.access_calls
    directory.require("companies/acme", "alice", PagePermission.EDIT)
    assert world.access_calls == calls  # cached
    assert failure(lambda: directory.require("users/u1", "alice", PagePermission.EDIT)).code == (
        grpc.StatusCode.INVALID_ARGUMENT
    )


def test_an_unreachable_service_is_unavailable() -> None:
    channels = ChannelFactory()
    try:
        down = GrpcPageDirectory(channels, dict.fromkeys(PageKind, "127.0.0.1:1"), InMemoryCache(), 0.0)
        assert failure(lambda: down.statuses(["programs/p"])).code == grpc.StatusCode.UNAVAILABLE
        assert (
            failure(lambda: down.allowed("programs/p", "pat", PagePermission.EDIT)).code == grpc.StatusCode.UNAVAILABLE
        )
    finally:
        channels.close()

"""The clients of the neighbours (adapters/neighbours.py) against in-process doubles of their
RPCs over real gRPC: billing's service identity, the proto states an unlock may buy, caching of
permissions and blocks (never of states), and failing closed when a neighbour is down."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from billing_service.adapters.neighbours import GrpcBlockList, GrpcPageStates, connect_neighbours
from billing_service.domain.unlocks import TargetState
from billing_service.settings import BillingSettings
from devinsider.company.v1 import company_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider.program.v1 import program_pb2
from devinsider_common.auth.service_identity import service_token_provider
from devinsider_common.cache import InMemoryCache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pages.services import PagesAccess
from devinsider_common.settings import AuthSettings
from devinsider_common.testing.failures import failure
from devinsider_common.testing.neighbours import Neighbours, start_neighbours
from devinsider_common.testing.services import TEST_ISSUER

ACME = PageName(PageKind.COMPANY, "acme")
Clients = tuple[PagesAccess, GrpcBlockList, GrpcPageStates]


@pytest.fixture
def doubles(tmp_path: Path) -> Iterator[Neighbours]:
    running = start_neighbours(tmp_path / "keys")
    yield running
    running.stop()


@contextmanager
def clients(key_dir: Path, doubles: Neighbours, ttl: float) -> Iterator[Clients]:
    """Billing's clients of the doubles, with service tokens signed by the keys in `key_dir`."""
    auth = AuthSettings(issuer=TEST_ISSUER, dev_key_dir=key_dir)
    target = doubles.target
    settings = BillingSettings(
        company_target=target,
        investor_target=target,
        program_target=target,
        matching_target=target,
        remote_cache_ttl_seconds=ttl,
    )
    channels = ChannelFactory(token_provider=service_token_provider(auth, "billing"))
    yield connect_neighbours(settings, channels, InMemoryCache())
    channels.close()


@pytest.fixture
def neighbours(tmp_path: Path, doubles: Neighbours) -> Iterator[Clients]:
    with clients(tmp_path / "keys", doubles, ttl=30.0) as made:
        yield made


def test_page_access_asks_the_owning_service_with_billings_identity_and_caches_answers(
    neighbours: Clients, doubles: Neighbours
) -> None:
    access, _, _ = neighbours
    doubles.add_member(ACME.name, "kc-admin", PageRole.ADMIN)
    doubles.add_member("investors/vc", "kc-viewer", PageRole.VIEWER)
    doubles.add_member("programs/p", "kc-owner", PageRole.OWNER)
    access.require(ACME.name, "kc-admin", PagePermission.MANAGE_BILLING)
    assert access.allowed("investors/vc", "kc-viewer", PagePermission.VIEW_PRIVATE)
    assert not access.allowed("investors/vc", "kc-viewer", PagePermission.MANAGE_BILLING)
    assert access.allowed("programs/p", "kc-owner", PagePermission.MANAGE_BILLING)
    refused = failure(lambda: access.require(ACME.name, "kc-stranger", PagePermission.VIEW_PRIVATE))
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
    asked = doubles.calls["CheckPageAccess"]
    access.require(ACME.name, "kc-admin", PagePermission.MANAGE_BILLING)  # cached
    assert doubles.calls["CheckPageAccess"] == asked


def test_blocks_are_asked_of_matching_and_cached_in_both_directions(neighbours: Clients, doubles: Neighbours) -> None:
    _, blocks, _ = neighbours
    foe = PageName(PageKind.INVESTOR, "foe")
    doubles.block(ACME.name, foe.name)
    assert blocks.is_blocked(ACME, foe) and blocks.is_blocked(foe, ACME)
    assert not blocks.is_blocked(ACME, PageName(PageKind.INVESTOR, "friend"))
    assert doubles.calls["CheckBlocked"] == 2  # the reversed pair was answered from the cache


def test_page_states_map_what_each_owner_says_and_are_never_cached(neighbours: Clients, doubles: Neighbours) -> None:
    _, _, states = neighbours
    doubles.states.update(
        {
            "companies/pre": company_pb2.COMPANY_STATE_PRE_LISTED,
            "companies/claimed": company_pb2.COMPANY_STATE_CLAIM_PENDING,
            "investors/draft": investor_pb2.INVESTOR_STATE_UNSPECIFIED,
            "programs/archived": program_pb2.PROGRAM_STATE_ARCHIVED,
            "programs/draft": program_pb2.PROGRAM_STATE_DRAFT,
        }
    )
    doubles.missing.add("companies/gone")
    doubles.unparsable.add("investors/Bad")
    expected = {
        "companies/acme": TargetState.ACTIVE,
        "companies/pre": TargetState.ACTIVE,  # listed in the directory too
        "companies/claimed": TargetState.INACTIVE,
        "companies/gone": None,
        "investors/vc": TargetState.ACTIVE,
        "investors/draft": None,
        "investors/Bad": None,  # a name its owner cannot parse names no page
        "programs/p": TargetState.ACTIVE,
        "programs/archived": TargetState.INACTIVE,
        "programs/draft": None,  # seen by its members only: does not exist for a buyer
    }
    assert {name: states.state(parse_page(name, "p")) for name in expected} == expected
    states.state(ACME)
    assert doubles.calls["BatchGet"] == len(expected) + 1


def test_a_neighbour_that_is_down_fails_closed(neighbours: Clients, doubles: Neighbours) -> None:
    access, blocks, states = neighbours
    doubles.down = True
    for call in (
        lambda: access.require(ACME.name, "kc", PagePermission.VIEW_PRIVATE),
        lambda: blocks.is_blocked(ACME, PageName(PageKind.INVESTOR, "vc")),
        lambda: states.state(ACME),
    ):
        assert failure(call).code == grpc.StatusCode.UNAVAILABLE


def test_a_caller_without_a_service_token_is_refused_by_the_neighbours(tmp_path: Path, doubles: Neighbours) -> None:
    """The doubles refuse what the real services refuse (a token of another issuer here): billing
    then fails closed, never open."""
    with clients(tmp_path / "other-keys", doubles, ttl=0.0) as (access, blocks, states):
        assert failure(lambda: states.state(ACME)).code == grpc.StatusCode.UNAVAILABLE
        assert failure(lambda: blocks.is_blocked(ACME, PageName(PageKind.INVESTOR, "vc"))).code == (
            grpc.StatusCode.UNAVAILABLE
        )
        assert failure(lambda: access.require(ACME.name, "kc", PagePermission.VIEW_PRIVATE)).code == (
            grpc.StatusCode.UNAVAILABLE
        )
    assert set(doubles.calls.values()) == {0}  # refused before answering

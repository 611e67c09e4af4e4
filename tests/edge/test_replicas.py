"""Round robin over replicas, and a killed replica: traffic moves to the one left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devinsider_gateway.testing.http import request

from .conftest import Edge, start_edge, stop_edge


@pytest.fixture
def two_replicas(descriptor_set: Path, tmp_path: Path) -> Iterator[Edge]:
    edge = start_edge(descriptor_set, tmp_path, replicas=2)
    yield edge
    stop_edge(edge)


def _backends(edge: Edge, calls: int) -> list[str]:
    answers = [request("GET", edge.url("/v1/echo/rr")) for _ in range(calls)]
    assert all(a.status == 200 for a in answers), [a.body for a in answers]
    return [str(a.json()["backend"]) for a in answers]


def test_round_robin_uses_both_replicas(two_replicas: Edge) -> None:
    assert set(_backends(two_replicas, 10)) == {"backend-0", "backend-1"}


def test_a_killed_replica_loses_no_request(two_replicas: Edge) -> None:
    victim = two_replicas.backends[0]
    victim.stop()  # its port now refuses connections; health checks have not noticed yet
    # Connect failures are retried on another host (previous_hosts predicate), then health checks eject it.
    assert set(_backends(two_replicas, 20)) == {"backend-1"}

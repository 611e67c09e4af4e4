"""Fault tests: the suite (or single services) in front of TCP proxies that simulate outages of the
shared PostgreSQL, Redis and RabbitMQ; see support.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import FaultStack, start_fault_stack


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    """The six services behind Envoy, each reaching the real servers only through `proxies`."""
    yield from start_fault_stack(tmp_path_factory.mktemp("faults"))

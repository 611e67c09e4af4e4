"""Use-case tests: the notification app on the in-memory fakes (no database, no server, no broker)."""

from __future__ import annotations

import pytest

from ..harness import World


@pytest.fixture
def world() -> World:
    return World()

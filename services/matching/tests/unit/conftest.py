"""Use-case tests: the matching app on the in-memory fakes (no database, no server)."""

from __future__ import annotations

import pytest

from ..fakes import World


@pytest.fixture
def matching() -> World:
    return World()

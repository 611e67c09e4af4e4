"""The use cases on the in-memory unit of work and fake ports (tests/harness.py): no server, no database."""

from __future__ import annotations

import pytest

from devinsider_common.auth.principal import Principal
from devinsider_common.pages.roles import PageRole

from ..harness import FUND, ISV, Contact


@pytest.fixture
def contact() -> Contact:
    return Contact()


@pytest.fixture
def investor(contact: Contact) -> Principal:
    """The owner of FUND, which unlocked ISV."""
    member = contact.member(FUND, "victor")
    contact.unlock(FUND, ISV)
    return member


@pytest.fixture
def isv_admin(contact: Contact) -> Principal:
    """An admin of ISV (may answer its requests)."""
    return contact.member(ISV, "alice", PageRole.ADMIN)

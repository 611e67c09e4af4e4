"""The use cases on the in-memory unit of work and fake ports (tests/harness.py): no server, no database."""

from __future__ import annotations

import pytest

from billing_service.service_layer import checkouts, credits, invoicing, payments, plan_changes, unlocks
from devinsider_common import ids
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.roles import PageRole

from ..harness import ACME, PROGRAM, Billing, new_billing


@pytest.fixture
def billing() -> Billing:
    return new_billing()


@pytest.fixture
def owner(billing: Billing) -> Principal:
    """The owner of ACME, e-mail owner@acme.io."""
    return billing.member(ACME, "kc-owner", email="owner@acme.io")


@pytest.fixture
def spender(billing: Billing) -> Principal:
    """An admin of the program page PROGRAM."""
    return billing.member(PROGRAM, "kc-spender", PageRole.ADMIN, roles=("program",))


@pytest.fixture(autouse=True)
def ordered_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids in the order they are made. UUIDv7 orders by millisecond only, and without I/O a test
    makes many in one millisecond: lists (newest first by id) would come in random order."""
    last = [""]

    def next_id() -> str:
        while (candidate := ids.new_id()) <= last[0]:
            pass
        last[0] = candidate
        return candidate

    for module in (checkouts, credits, invoicing, payments, plan_changes, unlocks):
        monkeypatch.setattr(module, "new_id", next_id)

"""Contacts of an investor page for the organisations that unlocked it (billing's answer, here a fake)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from investor_service.bootstrap import start
from investor_service.settings import InvestorSettings

from ..conftest import TokenFactory, bearer, new_investor


class FakeUnlocks:
    """Billing's HasUnlocked: the (page, subject) pairs whose organisation unlocked the page."""

    def __init__(self) -> None:
        self.unlocked: set[tuple[str, str]] = set()
        self.asked: list[tuple[str, str]] = []

    def has_unlocked(self, target: str, subject: str) -> bool:
        self.asked.append((target, subject))
        return (target, subject) in self.unlocked


@pytest.fixture
def unlocks() -> FakeUnlocks:
    return FakeUnlocks()


@pytest.fixture
def stub(settings: InvestorSettings, unlocks: FakeUnlocks) -> Iterator[investor_pb2_grpc.InvestorServiceStub]:
    service = start(settings, run_jobs=False, unlocks=unlocks)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            yield investor_pb2_grpc.InvestorServiceStub(channel)
    finally:
        service.stop(grace=0)


def test_outsiders_whose_organisation_unlocked_the_page_see_its_contacts(
    stub: investor_pb2_grpc.InvestorServiceStub, unlocks: FakeUnlocks, token: TokenFactory
) -> None:
    contact = investor_pb2.InvestorContact(email="deals@northwind.example")
    created = stub.CreateInvestor(
        investor_pb2.CreateInvestorRequest(investor=new_investor(contact=contact)), metadata=bearer(token("kc-ivan"))
    )
    unlocks.unlocked.add((created.name, "kc-isv"))

    def view(metadata: tuple[tuple[str, str], ...] = ()) -> investor_pb2.Investor:
        return stub.GetInvestor(investor_pb2.GetInvestorRequest(name=created.name), metadata=metadata)

    seen = view(bearer(token("kc-isv", roles=("isv",))))
    assert seen.viewer_has_full_access and seen.contact.email == "deals@northwind.example"
    hidden = view(bearer(token("kc-other", roles=("isv",))))
    assert not hidden.viewer_has_full_access and not hidden.HasField("contact")
    # Members, staff and anonymous callers are never asked about: they see what they see anyway.
    assert view(bearer(token("kc-ivan"))).contact.email == "deals@northwind.example"
    assert view(bearer(token("kc-staff", roles=("admin",)))).viewer_has_full_access
    assert not view().HasField("contact")
    assert unlocks.asked == [(created.name, "kc-isv"), (created.name, "kc-other")]

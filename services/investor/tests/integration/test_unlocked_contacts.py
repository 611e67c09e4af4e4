"""Billing's unlocks reach GetInvestor: `start(unlocks=...)` puts a fake billing in the real service.
(Who sees the contact, and who billing is asked about, is tested on the use case: tests/unit.)"""

from __future__ import annotations

import grpc

from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider_common.testing.tokens import CallerFactory
from investor_service.bootstrap import start
from investor_service.settings import InvestorSettings

from ..conftest import new_investor
from ..fakes import FakeUnlocks


def test_outsiders_whose_organisation_unlocked_the_page_see_its_contacts(
    settings: InvestorSettings, callers: CallerFactory
) -> None:
    unlocks = FakeUnlocks()
    service = start(settings, run_jobs=False, unlocks=unlocks)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = investor_pb2_grpc.InvestorServiceStub(channel)
            contact = investor_pb2.InvestorContact(email="deals@northwind.example")
            created = stub.CreateInvestor(
                investor_pb2.CreateInvestorRequest(investor=new_investor(contact=contact)),
                metadata=callers("kc-ivan", ("investor",)).metadata,
            )
            unlocks.unlocked.add((created.name, "kc-isv"))
            request = investor_pb2.GetInvestorRequest(name=created.name)
            seen = stub.GetInvestor(request, metadata=callers("kc-isv").metadata)
            hidden = stub.GetInvestor(request, metadata=callers("kc-other").metadata)
    finally:
        service.stop(grace=0)
    assert seen.viewer_has_full_access and seen.contact.email == "deals@northwind.example"
    assert not hidden.viewer_has_full_access and not hidden.HasField("contact")
    assert unlocks.asked == [(created.name, "kc-isv"), (created.name, "kc-other")]

"""Contact details unlocked, as the company service learns of it: billing's UnlockCreated on the real
RabbitMQ reaches the service's queue (`company.unlocks`), the projection records it, and a read asks
the unlocking page's service (a fake investor service here) whether the viewer belongs to it, with the
company service's own token. Billing is never asked. (The rules are tested in libs/common/tests/pages.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import jwt
import pytest

from company_service.bootstrap import start
from company_service.settings import CompanySettings
from devinsider.billing.v1 import billing_pb2
from devinsider.billing.v1.events_pb2 import UnlockCreated
from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2 as c
from devinsider.company.v1 import company_pb2_grpc
from devinsider.investor.v1 import investor_pb2
from devinsider_common.auth.principal import ROLE_SERVICE
from devinsider_common.outbox.amqp import AmqpPublisher
from devinsider_common.outbox.envelope import build_envelope, to_json
from devinsider_common.outbox.topology import UNLOCK
from devinsider_common.settings import BrokerSettings
from devinsider_common.testing.tokens import CallerFactory

pytestmark = pytest.mark.rabbitmq

INVESTOR = "investors/i1"


class FakeInvestorService:
    """An InvestorService double implementing only CheckPageAccess: the members of INVESTOR, and every
    call seen with its authorization header."""

    def __init__(self) -> None:
        self.members: set[str] = set()
        self.calls: list[tuple[str, str, str]] = []

    def CheckPageAccess(  # noqa: N802 - the RPC's name
        self, request: investor_pb2.CheckPageAccessRequest, context: grpc.ServicerContext
    ) -> investor_pb2.CheckPageAccessResponse:
        auth = dict(context.invocation_metadata()).get("authorization", "")
        self.calls.append((request.page, request.subject, str(auth)))
        allowed = request.page == INVESTOR and request.subject in self.members
        role = page_pb2.PAGE_ROLE_VIEWER if allowed else page_pb2.PAGE_ROLE_UNSPECIFIED
        return investor_pb2.CheckPageAccessResponse(allowed=allowed, role=role, cache_ttl_seconds=60)


@pytest.fixture
def investors() -> Iterator[tuple[FakeInvestorService, int]]:
    fake = FakeInvestorService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(
        fake.CheckPageAccess,
        request_deserializer=investor_pb2.CheckPageAccessRequest.FromString,
        response_serializer=investor_pb2.CheckPageAccessResponse.SerializeToString,
    )
    service_name = investor_pb2.DESCRIPTOR.services_by_name["InvestorService"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service_name, {"CheckPageAccess": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, port
    server.stop(0)


def publish_unlock(amqp_url: str, target: str) -> None:
    event = UnlockCreated(
        unlocker=page_pb2.PageRef(name=INVESTOR),
        unlock=billing_pb2.Unlock(name=f"{INVESTOR}/unlocks/u1", target=page_pb2.PageRef(name=target), cost=1),
    )
    envelope = build_envelope(event, source="billing", external_id=event.unlock.name)
    publisher = AmqpPublisher(amqp_url)
    try:
        publisher.publish(UNLOCK, "", to_json(envelope), envelope.event_id, envelope.event_type)
    finally:
        publisher.close()


def test_members_of_an_organisation_that_unlocked_the_page_see_its_contact_details(
    investors: tuple[FakeInvestorService, int], settings: CompanySettings, callers: CallerFactory, amqp_url: str
) -> None:
    fake, port = investors
    configured = settings.model_copy(
        update={
            "investor_target": f"127.0.0.1:{port}",
            "unlock_cache_ttl_seconds": 0.0,
            "broker": BrokerSettings(amqp_url=amqp_url, relay_interval_seconds=0.05),
        }
    )
    service = start(configured, run_jobs=False)
    try:
        assert service.wait_until_consuming()  # its queue exists: the unlock published below reaches it
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = company_pb2_grpc.CompanyServiceStub(channel)
            company = c.Company(display_name="Acme", contact=c.CompanyContact(email="hq@acme.io"))
            page = stub.CreateCompany(c.CreateCompanyRequest(company=company), metadata=callers("kc-alice").metadata)
            vera, other = callers("kc-vera", roles=("investor",)), callers("kc-other", roles=("investor",))
            fake.members.add("kc-vera")

            before = stub.GetCompany(c.GetCompanyRequest(name=page.name), metadata=vera.metadata)
            assert not before.viewer_has_full_access and not before.HasField("contact")
            assert fake.calls == []  # nobody unlocked the page: no other service is asked

            publish_unlock(amqp_url, page.name)
            deadline = time.monotonic() + 15
            seen = before
            while not seen.viewer_has_full_access and time.monotonic() < deadline:
                time.sleep(0.05)
                seen = stub.GetCompany(c.GetCompanyRequest(name=page.name), metadata=vera.metadata)
            assert seen.viewer_has_full_access and seen.contact.email == "hq@acme.io"
            hidden = stub.GetCompany(c.GetCompanyRequest(name=page.name), metadata=other.metadata)
            assert not hidden.viewer_has_full_access and not hidden.HasField("contact")
            assert {(p, s) for p, s, _ in fake.calls} == {(INVESTOR, "kc-vera"), (INVESTOR, "kc-other")}
            # The question carries the company service's own token (service role), not the viewer's.
            claims = jwt.decode(fake.calls[0][2].removeprefix("Bearer "), options={"verify_signature": False})
            assert claims["sub"] == "service-company" and ROLE_SERVICE in claims["realm_access"]["roles"]
    finally:
        service.stop(grace=0)

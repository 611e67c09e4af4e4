"""Contact details unlocked through billing: the company service asks a BillingService over gRPC,
with its own service token (never the viewer's)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import jwt
import pytest

from company_service.bootstrap import start
from company_service.settings import CompanySettings
from devinsider.billing.v1 import billing_pb2
from devinsider.company.v1 import company_pb2 as c
from devinsider.company.v1 import company_pb2_grpc
from devinsider_common.auth.principal import ROLE_SERVICE
from devinsider_common.testing.tokens import CallerFactory


class FakeBilling:
    """A BillingService double implementing only HasUnlocked: the (target, subject) pairs unlocked,
    and every call seen with its authorization header."""

    def __init__(self) -> None:
        self.unlocked: set[tuple[str, str]] = set()
        self.calls: list[tuple[str, str, str]] = []

    def HasUnlocked(  # noqa: N802 - the RPC's name
        self, request: billing_pb2.HasUnlockedRequest, context: grpc.ServicerContext
    ) -> billing_pb2.HasUnlockedResponse:
        auth = dict(context.invocation_metadata()).get("authorization", "")
        self.calls.append((request.target, request.subject, str(auth)))
        unlocked = (request.target, request.subject) in self.unlocked
        return billing_pb2.HasUnlockedResponse(
            unlocked=unlocked, unlockers=["investors/i1"] if unlocked else [], cache_ttl_seconds=60
        )


@pytest.fixture
def billing() -> Iterator[tuple[FakeBilling, int]]:
    fake = FakeBilling()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(
        fake.HasUnlocked,
        request_deserializer=billing_pb2.HasUnlockedRequest.FromString,
        response_serializer=billing_pb2.HasUnlockedResponse.SerializeToString,
    )
    service_name = billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service_name, {"HasUnlocked": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, port
    server.stop(0)


def test_investors_whose_organisation_unlocked_see_contact_details(
    billing: tuple[FakeBilling, int], settings: CompanySettings, callers: CallerFactory
) -> None:
    fake, port = billing
    configured = settings.model_copy(update={"billing_target": f"127.0.0.1:{port}", "unlock_cache_ttl_seconds": 0.0})
    service = start(configured, run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = company_pb2_grpc.CompanyServiceStub(channel)
            alice = callers("kc-alice")
            company = c.Company(display_name="Acme", contact=c.CompanyContact(email="hq@acme.io"))
            page = stub.CreateCompany(c.CreateCompanyRequest(company=company), metadata=alice.metadata).name
            investor, other = callers("kc-inv", roles=("investor",)), callers("kc-inv2", roles=("investor",))
            fake.unlocked.add((page, "kc-inv"))
            seen = stub.GetCompany(c.GetCompanyRequest(name=page), metadata=investor.metadata)
            assert seen.viewer_has_full_access and seen.contact.email == "hq@acme.io"
            hidden = stub.GetCompany(c.GetCompanyRequest(name=page), metadata=other.metadata)
            assert not hidden.viewer_has_full_access and not hidden.HasField("contact")
            assert [(t, s) for t, s, _ in fake.calls] == [(page, "kc-inv"), (page, "kc-inv2")]
            # The call carries the company service's own token (service role), not the investor's.
            claims = jwt.decode(fake.calls[0][2].removeprefix("Bearer "), options={"verify_signature": False})
            assert claims["sub"] == "service-company" and ROLE_SERVICE in claims["realm_access"]["roles"]
    finally:
        service.stop(grace=0)

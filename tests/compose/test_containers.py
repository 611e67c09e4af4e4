"""Typed gRPC stubs against the containers themselves (not through the edge), as internal callers and
operators reach them: each service on the port of deploy/kubernetes, health, reflection and metrics on
its container, and a page written over gRPC read back through the edge (one database behind both)."""

from __future__ import annotations

import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.testing.services import SUITE_SERVICES, bearer

from ..e2e.suite_stack import unique
from .stack import ComposeStack

PORTS = {
    "user": 50051,
    "company": 50052,
    "investor": 50053,
    "program": 50054,
    "matching": 50055,
    "billing": 50056,
    "contact": 50057,
    "notification": 50058,
}


def _channel(stack: ComposeStack, service: str) -> grpc.Channel:
    (target,) = stack.targets(service, PORTS[service])
    return grpc.insecure_channel(target)


@pytest.mark.parametrize("service", list(PORTS))
def test_each_container_serves_health_reflection_and_metrics_on_its_port(
    compose_stack: ComposeStack, service: str
) -> None:
    with _channel(compose_stack, service) as channel:
        full_name = SUITE_SERVICES[service]
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=full_name), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        (answer,) = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        assert full_name in {s.name for s in answer.list_services_response.service}
    address = compose_stack.targets(service, PORTS[service])[0].split(":")[0]
    with urllib.request.urlopen(f"http://{address}:9100/metrics", timeout=5) as response:
        assert b"grpc_server_handled_total" in response.read()


def test_a_page_created_over_grpc_is_read_back_through_the_edge(compose_stack: ComposeStack) -> None:
    owner = unique("grpc-owner")
    token = compose_stack.token(owner)
    with _channel(compose_stack, "user") as channel:
        me = user_pb2_grpc.UserServiceStub(channel).GetMe(user_pb2.GetMeRequest(), metadata=bearer(token), timeout=10)
    assert me.email == f"{owner}@example.com"
    with _channel(compose_stack, "company") as channel:
        stub = company_pb2_grpc.CompanyServiceStub(channel)
        request = company_pb2.CreateCompanyRequest(
            company=company_pb2.Company(display_name="Typed Stub Ltd"), request_id=unique("req")
        )
        created = stub.CreateCompany(request, metadata=bearer(token), timeout=10)
        again = stub.CreateCompany(request, metadata=bearer(token), timeout=10)  # a retry: the same page
    assert again.name == created.name and created.display_name == "Typed Stub Ltd"
    through_edge = compose_stack.call("GET", f"/v1/{created.name}", token=token)
    assert through_edge.status == 200 and through_edge.json()["displayName"] == "Typed Stub Ltd"
    with _channel(compose_stack, "billing") as channel:
        plans = billing_pb2_grpc.BillingServiceStub(channel).ListPlans(billing_pb2.ListPlansRequest(), timeout=10)
    assert "plans/investor-credits-10" in {plan.name for plan in plans.plans}


def test_a_bad_request_gets_a_clear_grpc_status(compose_stack: ComposeStack) -> None:
    with _channel(compose_stack, "company") as channel:
        stub = company_pb2_grpc.CompanyServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.GetCompany(company_pb2.GetCompanyRequest(name="not-a-company"), timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "name" in (raised.value.details() or "")

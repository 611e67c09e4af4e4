"""gRPC through the shared server interceptor and the `grpc.clients` channels, with tracing on: a CLIENT span
per call carrying `traceparent`, a SERVER span per call as its child, holding the call's gRPC status (ERROR
for the server's faults only); health checks are not traced."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common import errors, tracing
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.auth.jwt_verifier import JwtVerifier
from devinsider_common.auth.policy import policies_for_service
from devinsider_common.auth.verifier import AllowAll
from devinsider_common.grpc.clients import create_channel
from devinsider_common.grpc.interceptors import ServiceInterceptor
from devinsider_common.settings import AuthSettings

from .conftest import Spans

ISSUER = "http://localhost/tracing-grpc-test"
SERVICE = "devinsider.user.v1.UserService"


class Users(user_pb2_grpc.UserServiceServicer):
    def GetMe(self, request: user_pb2.GetMeRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        raise RuntimeError("the database is gone")

    def GetUser(self, request: user_pb2.GetUserRequest, ctx: grpc.ServicerContext) -> user_pb2.User:  # noqa: N802
        if request.name == "users/missing":
            raise errors.NotFound("no such user", reason="USER_NOT_FOUND")
        return user_pb2.User(name=request.name)


@pytest.fixture
def stub(spans: Spans, tmp_path: Path) -> Iterator[tuple[user_pb2_grpc.UserServiceStub, grpc.Channel, str]]:
    verifier = JwtVerifier(AuthSettings(issuer=ISSUER, dev_key_dir=tmp_path))
    interceptor = ServiceInterceptor("user", policies_for_service(SERVICE), verifier, AllowAll())
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4), interceptors=[*tracing.server_interceptors(), interceptor]
    )
    user_pb2_grpc.add_UserServiceServicer_to_server(Users(), server)  # type: ignore[abstract]
    health_servicer = health.HealthServicer()
    health_servicer.set(SERVICE, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = create_channel(f"127.0.0.1:{port}")
    token = issue_token(tmp_path, ISSUER, "kc-admin", roles=["admin"])
    yield user_pb2_grpc.UserServiceStub(channel), channel, token
    channel.close()
    server.stop(0).wait()


def _of(spans: Spans, kind: SpanKind) -> ReadableSpan:
    (found,) = [span for span in spans.finished() if span.kind == kind]
    return found


def _call(stub: user_pb2_grpc.UserServiceStub, token: str, name: str) -> grpc.StatusCode:
    try:
        stub.GetUser(user_pb2.GetUserRequest(name=name), metadata=(("authorization", f"Bearer {token}"),))
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def test_the_server_span_is_the_child_of_the_client_span_and_of_the_caller(
    spans: Spans, stub: tuple[user_pb2_grpc.UserServiceStub, grpc.Channel, str]
) -> None:
    client, _, token = stub
    with spans.tracer.start_as_current_span("caller") as caller:
        assert _call(client, token, "users/1") == grpc.StatusCode.OK
    outgoing, served = _of(spans, SpanKind.CLIENT), _of(spans, SpanKind.SERVER)
    assert outgoing.name == served.name == f"/{SERVICE}/GetUser"
    assert outgoing.parent is not None and outgoing.parent.span_id == caller.get_span_context().span_id
    assert served.parent is not None and outgoing.context is not None
    assert served.parent.span_id == outgoing.context.span_id and served.parent.is_remote
    assert served.attributes is not None and served.attributes["rpc.grpc.status_code"] == 0


def test_a_callers_error_is_recorded_but_is_no_server_error(
    spans: Spans, stub: tuple[user_pb2_grpc.UserServiceStub, grpc.Channel, str]
) -> None:
    client, _, token = stub
    with spans.tracer.start_as_current_span("caller"):
        assert _call(client, token, "users/missing") == grpc.StatusCode.NOT_FOUND
    served = _of(spans, SpanKind.SERVER)
    assert served.attributes is not None and served.attributes["rpc.grpc.status_code"] == 5
    assert served.status.status_code == StatusCode.UNSET


def test_a_server_fault_is_an_error_span(
    spans: Spans, stub: tuple[user_pb2_grpc.UserServiceStub, grpc.Channel, str]
) -> None:
    client, _, token = stub
    with spans.tracer.start_as_current_span("caller"), pytest.raises(grpc.RpcError):
        client.GetMe(user_pb2.GetMeRequest(), metadata=(("authorization", f"Bearer {token}"),))
    served = _of(spans, SpanKind.SERVER)
    assert served.attributes is not None and served.attributes["rpc.grpc.status_code"] == 13
    assert served.status.status_code == StatusCode.ERROR
    assert _of(spans, SpanKind.CLIENT).status.status_code == StatusCode.ERROR


def test_health_checks_and_calls_outside_a_trace_make_no_spans(
    spans: Spans, stub: tuple[user_pb2_grpc.UserServiceStub, grpc.Channel, str]
) -> None:
    client, channel, token = stub
    checked = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE))
    assert checked.status == health_pb2.HealthCheckResponse.SERVING
    assert spans.finished() == []
    assert _call(client, token, "users/1") == grpc.StatusCode.OK  # a job's call: its client span is dropped,
    assert [span.kind for span in spans.finished()] == []  # so the server's is not sampled either

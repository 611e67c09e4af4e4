"""Client factory against real in-process gRPC servers: metadata and deadline propagation, retries."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from devinsider_common import context as ctx
from devinsider_common.grpc.clients import ChannelFactory, create_channel, service_config, stub

SERVICE = "devinsider.test.v1.ProbeService"


class ProbeServer:
    """Echoes what it received (metadata, time left) and fails the first `failures` Flaky calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.flaky_calls = 0
        self._lock = threading.Lock()

    def inspect(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        metadata = {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}
        return json.dumps({"metadata": metadata, "time_remaining": context.time_remaining()}).encode()

    def flaky(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        with self._lock:
            self.flaky_calls += 1
            calls = self.flaky_calls
        if calls <= self.failures:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"down for call {calls}")
        return request

    def slow(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        time.sleep(1.0)
        return request


class ProbeStub:
    """A hand-written typed stub, shaped like the generated ones (bytes in, bytes out)."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.Inspect: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(f"/{SERVICE}/Inspect")
        self.Flaky: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(f"/{SERVICE}/Flaky")
        self.Slow: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(f"/{SERVICE}/Slow")


@pytest.fixture
def probe() -> ProbeServer:
    return ProbeServer(failures=2)


@pytest.fixture
def target(probe: ProbeServer) -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        "Inspect": grpc.unary_unary_rpc_method_handler(probe.inspect),
        "Flaky": grpc.unary_unary_rpc_method_handler(probe.flaky),
        "Slow": grpc.unary_unary_rpc_method_handler(probe.slow),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0).wait()


def _in_call(fn: Callable[[], Any], *, token: str = "", request_id: str = "", deadline_in: float | None = None) -> Any:
    """Run `fn` as a server handler would: with the caller's context variables set."""

    def run() -> Any:
        ctx.token_var.set(token)
        ctx.request_id_var.set(request_id)
        ctx.deadline_var.set(None if deadline_in is None else time.monotonic() + deadline_in)
        return fn()

    return contextvars.copy_context().run(run)


def test_caller_token_request_id_and_deadline_propagate(target: str) -> None:
    probe = stub(create_channel(target, default_timeout=30.0), ProbeStub)
    seen = json.loads(_in_call(lambda: probe.Inspect(b""), token="user-tok", request_id="req-42", deadline_in=2.0))
    assert seen["metadata"]["authorization"] == "Bearer user-tok"
    assert seen["metadata"]["x-request-id"] == "req-42"
    assert 0.5 < seen["time_remaining"] < 2.1  # the caller's deadline, not the 30 s default


def test_without_a_caller_context_nothing_is_invented_and_default_timeout_applies(target: str) -> None:
    probe = stub(create_channel(target, default_timeout=7.0), ProbeStub)
    seen = json.loads(_in_call(lambda: probe.Inspect(b"")))
    assert "authorization" not in seen["metadata"]
    assert "x-request-id" not in seen["metadata"]
    assert 6.0 < seen["time_remaining"] < 7.1  # deadline rounding may add a few ms


def test_service_token_provider_replaces_the_caller_token(target: str) -> None:
    probe = stub(create_channel(target, token_provider=lambda: "svc-tok"), ProbeStub)
    seen = json.loads(_in_call(lambda: probe.Inspect(b""), token="user-tok"))
    assert seen["metadata"]["authorization"] == "Bearer svc-tok"


def test_expired_caller_deadline_ends_the_downstream_call(target: str) -> None:
    probe = stub(create_channel(target, default_timeout=30.0), ProbeStub)
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        _in_call(lambda: probe.Slow(b""), deadline_in=0.2)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 0.9


def test_idempotent_method_is_retried_on_unavailable(target: str, probe: ProbeServer) -> None:
    channel = create_channel(target, idempotent_methods=[f"/{SERVICE}/Flaky"])
    assert stub(channel, ProbeStub).Flaky(b"ok") == b"ok"
    assert probe.flaky_calls == 3


def test_whole_service_declared_idempotent_is_retried(target: str, probe: ProbeServer) -> None:
    assert stub(create_channel(target, idempotent_services=[SERVICE]), ProbeStub).Flaky(b"ok") == b"ok"
    assert probe.flaky_calls == 3


def test_other_methods_are_not_retried(target: str, probe: ProbeServer) -> None:
    channel = create_channel(target, idempotent_methods=[f"/{SERVICE}/Inspect"])
    with pytest.raises(grpc.RpcError) as caught:
        stub(channel, ProbeStub).Flaky(b"ok")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert probe.flaky_calls == 1


def test_retries_stop_after_max_attempts(target: str, probe: ProbeServer) -> None:
    probe.failures = 10
    with pytest.raises(grpc.RpcError) as caught:
        stub(create_channel(target, idempotent_services=[SERVICE], max_attempts=3), ProbeStub).Flaky(b"")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert probe.flaky_calls == 3


def test_factory_shares_channels_and_returns_generated_typed_stubs(target: str) -> None:
    factory = ChannelFactory(default_timeout=3.0)
    try:
        assert factory.channel(target) is factory.channel(target)
        health_stub = factory.stub(target, health_pb2_grpc.HealthStub)
        reply = health_stub.Check(health_pb2.HealthCheckRequest(service=""))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        factory.close()


def test_service_config_rejects_malformed_method_paths() -> None:
    with pytest.raises(ValueError, match=r"/pkg\.Service/Method"):
        service_config(methods=["Flaky"])


def test_calls_are_spread_over_every_address_of_the_target() -> None:
    """Two replicas behind one target (as DNS returns a headless Service's pods): round robin uses both."""
    probes = [ProbeServer(), ProbeServer()]
    servers, ports = [], []
    for probe in probes:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
            "Flaky": grpc.unary_unary_rpc_method_handler(probe.flaky)
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        ports.append(server.add_insecure_port("127.0.0.1:0"))
        server.start()
        servers.append(server)
    try:
        channel = create_channel("ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports))
        probe_stub = stub(channel, ProbeStub)
        for _ in range(10):  # warm-up: both subchannels connect
            probe_stub.Flaky(b"", wait_for_ready=True)
        before = [probe.flaky_calls for probe in probes]
        for _ in range(20):
            probe_stub.Flaky(b"", wait_for_ready=True)
        spread = [probe.flaky_calls - seen for probe, seen in zip(probes, before, strict=True)]
        assert sum(spread) == 20 and min(spread) >= 8, spread  # pick_first would give [20, 0]
    finally:
        for server in servers:
            server.stop(0).wait()

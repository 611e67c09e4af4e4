"""Sample calls with real clients (a gRPC channel per target, the edge over HTTP/1.1): h2load counts a
gRPC error as a 200 (the status is in the trailers), so every target is called and checked before and
after its load, and a refusal is reported as an error instead of as fast throughput."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory

from bench.calls import Call
from bench.suite.targets import Check
from devinsider_gateway.testing.http import request


class ProbeError(Exception):
    """A sample call failed or its answer is not the expected one."""


class Prober:
    def __init__(self) -> None:
        self._channels: dict[str, grpc.Channel] = {}

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def grpc(self, target: str, call: Call, check: Check) -> dict[str, Any]:
        """`call` over gRPC to `target` (`host:port`), its answer as JSON; ProbeError when refused or wrong."""
        channel = self._channels.get(target) or self._channels.setdefault(target, grpc.insecure_channel(target))
        stub: grpc.UnaryUnaryMultiCallable[bytes, dict[str, Any]] = channel.unary_unary(
            call.grpc_method, response_deserializer=_to_json(call)
        )
        metadata = (("authorization", f"Bearer {call.token}"),) if call.token else ()
        try:
            answer = stub(call.grpc_request, metadata=metadata, timeout=15)
        except grpc.RpcError as error:
            raise ProbeError(f"{call.op} over gRPC: {error.code().name} {error.details()}") from None
        return _checked(call, answer, check)

    def rest(self, base_url: str, call: Call, check: Check) -> dict[str, Any]:
        """`call` through the edge at `base_url`, its answer; ProbeError when not 200 or wrong."""
        headers = {"authorization": f"Bearer {call.token}"} if call.token else {}
        if call.body is not None:
            headers["content-type"] = "application/json"
        response = request(call.method, base_url + call.path, call.body, headers)
        if response.status != 200:
            raise ProbeError(f"{call.op} through the edge: HTTP {response.status} {response.body[:200]!r}")
        return _checked(call, dict(response.json()), check)


def _to_json(call: Call) -> Callable[[bytes], dict[str, Any]]:
    """Decodes the method's answer as JSON, with its class from the generated modules' pool; a method
    not there (the echo's test-only proto) answers {}: only its status is checked."""
    try:
        method = descriptor_pool.Default().FindMethodByName(call.grpc_method.strip("/").replace("/", "."))
    except KeyError:
        return lambda _: {}
    output = message_factory.GetMessageClass(method.output_type)
    return lambda data: json_format.MessageToDict(output.FromString(data))


def _checked(call: Call, answer: dict[str, Any], check: Check) -> dict[str, Any]:
    problem = check(answer)
    if problem:
        raise ProbeError(f"{call.op}: {problem}")
    return answer

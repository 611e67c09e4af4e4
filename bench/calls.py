"""One request in both of its forms: REST through the edge and gRPC direct (serialized), so that the
same call is sent by h2load, the closed-loop driver and a real gRPC client."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import Message

ECHO = "edgetest.v1.EchoService"


@dataclass(frozen=True)
class Call:
    op: str
    method: str  # REST
    path: str
    body: bytes | None
    grpc_method: str  # /pkg.Service/Method
    grpc_request: bytes
    token: str | None

    @property
    def service(self) -> str:
        return self.grpc_method.split("/")[1]

    def grpc_frame(self) -> bytes:
        """The request as gRPC frames it on the wire (uncompressed, 4-byte length), for h2load -d."""
        return b"\x00" + struct.pack("!I", len(self.grpc_request)) + self.grpc_request


def build_call(
    op: str,
    rest: tuple[str, str, dict[str, Any] | None],
    grpc: tuple[str, type[Message], dict[str, Any]],
    token: str | None,
) -> Call:
    """`rest`: (method, path, JSON body); `grpc`: (/pkg.Service/Method, request class, request as JSON)."""
    method, path, body = rest
    grpc_method, request_class, request = grpc
    message = json_format.ParseDict(request, request_class())
    encoded = json.dumps(body).encode() if body is not None else None
    return Call(op, method, path, encoded, grpc_method, message.SerializeToString(), token)


def echo_call(descriptor_set: Path) -> Call:
    """The echo ceiling's call (test-only proto, no generated code: its class comes from the set)."""
    pool = descriptor_pool.DescriptorPool()
    for proto in descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file:
        pool.Add(proto)
    request_class = message_factory.GetMessageClass(pool.FindMessageTypeByName("edgetest.v1.EchoRequest"))
    payload = request_class(id="x").SerializeToString()
    return Call("Echo", "GET", "/v1/echo/x", None, f"/{ECHO}/Echo", payload, None)

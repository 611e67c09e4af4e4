"""What the generated authorization tests read from gen/devinsider.binpb, and how they call any RPC.

Every RPC of every service in the descriptor set becomes an `Rpc`: its gRPC path, its declared access
policy (`devinsider.common.v1.access`), its request and response classes (the gen/python modules of
the same files, so a stale generation fails loudly) and its HTTP bindings. `call` invokes any of them
over a plain channel with a generic unary-unary callable and returns (code, ErrorInfo reason).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from devinsider.common.v1 import access_pb2

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTOR_SET = ROOT / "gen" / "devinsider.binpb"

# The page collections: a resource name starting with one of these is an organisation page's.
PAGE_COLLECTIONS = ("companies", "investors", "programs")
_VARIABLE = re.compile(r"\{([a-z_.]+)=([^}]+)\}")


@dataclass(frozen=True)
class Binding:
    """One HTTP binding of an RPC: the request field its path variable fills and that variable's pattern."""

    verb: str
    template: str
    field: str  # dotted request field path, e.g. `criteria_profile.name`; "" without a variable
    pattern: str  # e.g. `companies/*/members/*`; "" without a variable

    @property
    def collection(self) -> str:
        return self.pattern.split("/", 1)[0]


@dataclass(frozen=True)
class Rpc:
    service: str  # full name, e.g. devinsider.company.v1.CompanyService
    name: str  # method name
    policy: access_pb2.AccessPolicy
    request_class: type[Message]
    response_class: type[Message]
    bindings: tuple[Binding, ...]

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    @property
    def short(self) -> str:
        """`CompanyService.ListMembers`: unique across the suite (services have distinct names)."""
        return f"{self.service.rsplit('.', 1)[1]}.{self.name}"

    def request_fields(self) -> set[str]:
        return {f.name for f in self.request_class.DESCRIPTOR.fields}


def _bindings(rule: http_pb2.HttpRule) -> list[Binding]:
    found = []
    for one in (rule, *rule.additional_bindings):
        verb = one.WhichOneof("pattern")
        if verb is None or verb == "custom":
            continue
        template = str(getattr(one, verb))
        variable = _VARIABLE.search(template)
        field, pattern = (variable.group(1), variable.group(2)) if variable else ("", "")
        found.append(Binding(verb, template, field, pattern))
    return found


def load_rpcs(path: Path = DESCRIPTOR_SET) -> list[Rpc]:
    """Every RPC of every service of the descriptor set, with its policy and message classes."""
    # The extension must be known to the parser before the set is parsed (access_pb2 is imported above).
    files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    pool = descriptor_pool.Default()
    rpcs = []
    for file in files.file:
        if not file.service:
            continue
        importlib.import_module(file.name.removesuffix(".proto").replace("/", ".") + "_pb2")
        for service in file.service:
            full = f"{file.package}.{service.name}"
            for method in service.method:
                generated = pool.FindMethodByName(f"{full}.{method.name}")
                rpcs.append(
                    Rpc(
                        service=full,
                        name=method.name,
                        policy=method.options.Extensions[access_pb2.access],
                        request_class=message_factory.GetMessageClass(generated.input_type),
                        response_class=message_factory.GetMessageClass(generated.output_type),
                        bindings=tuple(_bindings(method.options.Extensions[annotations_pb2.http])),  # type: ignore[index]
                    )
                )
    return rpcs


def set_field(message: Message, dotted: str, value: Any) -> None:
    """Sets `a.b.c` on `message`, creating the intermediate messages."""
    *parents, last = dotted.split(".")
    target = message
    for name in parents:
        target = getattr(target, name)
    setattr(target, last, value)


@dataclass(frozen=True)
class Outcome:
    code: grpc.StatusCode
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.code.name} {self.reason} {self.message!r}"


def call(channel: grpc.Channel, rpc: Rpc, request: Message, token: str | None = None, timeout: float = 10.0) -> Outcome:
    """Invokes `rpc` with a generic callable; (code, ErrorInfo reason, message) of the answer."""
    method: grpc.UnaryUnaryMultiCallable[Message, Message] = channel.unary_unary(
        rpc.path,
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=rpc.response_class.FromString,
    )
    metadata = (("authorization", f"Bearer {token}"),) if token is not None else ()
    try:
        method(request, metadata=metadata, timeout=timeout)
    except grpc.RpcError as error:
        reason = ""
        status = rpc_status.from_call(error)
        if status is not None:
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Is(info.DESCRIPTOR):
                    detail.Unpack(info)
                    reason = info.reason
        return Outcome(error.code(), reason, error.details() or "")
    return Outcome(grpc.StatusCode.OK, "", "")

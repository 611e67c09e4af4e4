"""Reads a FileDescriptorSet: services, their HTTP rules, access policies and proto comments.

Nothing here knows our services: any set whose methods carry `google.api.http` works. The access
option is read by its field number from the raw MethodOptions bytes, so a set without
devinsider/common/v1/access.proto simply has no policies (every RPC then needs a token).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool, message_factory

from .comments import leading_comments

ACCESS_OPTION_NAME = "devinsider.common.v1.access"
AUDIENCE_PUBLIC = 1
_AUDIENCE_NAMES = {0: "UNSPECIFIED", 1: "PUBLIC", 2: "AUTHENTICATED", 3: "ROLES", 4: "SERVICE"}


@dataclass(frozen=True)
class Binding:
    verb: str  # get, post, put, patch, delete
    path: str  # the template as written: /v1/{name=users/*}:approve
    body: str  # "", "*" or a field name
    response_body: str


@dataclass(frozen=True)
class Method:
    service: str  # full service name
    name: str
    method: descriptor.MethodDescriptor
    bindings: tuple[Binding, ...]
    audience: str  # PUBLIC, AUTHENTICATED, ROLES, SERVICE or UNSPECIFIED
    roles: tuple[str, ...]
    comment: str

    @property
    def grpc_path(self) -> str:
        return f"/{self.service}/{self.name}"

    @property
    def public(self) -> bool:
        return self.audience == "PUBLIC"

    @property
    def safe(self) -> bool:
        """Only GET bindings: retrying cannot apply a change twice."""
        return bool(self.bindings) and all(b.verb == "get" for b in self.bindings)


@dataclass(frozen=True)
class Api:
    files: descriptor_pb2.FileDescriptorSet
    pool: descriptor_pool.DescriptorPool
    services: dict[str, list[Method]]  # full service name -> methods
    comments: dict[str, str]  # full element name (message, field, enum, value) -> leading comment

    def only(self, names: set[str]) -> Api:
        """The same API restricted to the services named (those that have upstreams)."""
        return Api(self.files, self.pool, {k: v for k, v in self.services.items() if k in names}, self.comments)

    def paths_under(self, prefix: str) -> tuple[str, ...]:
        """The HTTP binding paths starting with `prefix` (the webhooks: `/v1/webhooks/`), sorted."""
        paths = {b.path for methods in self.services.values() for m in methods for b in m.bindings}
        return tuple(sorted(p for p in paths if p.startswith(prefix)))


def _bindings(rule: http_pb2.HttpRule) -> list[Binding]:
    verb = rule.WhichOneof("pattern")
    found: list[Binding] = []
    if verb == "custom":
        found.append(Binding(rule.custom.kind.lower(), rule.custom.path, rule.body, rule.response_body))
    elif verb:
        found.append(Binding(verb, getattr(rule, verb), rule.body, rule.response_body))
    for extra in rule.additional_bindings:
        found.extend(_bindings(extra))
    return found


def _access(options: descriptor_pb2.MethodOptions, pool: descriptor_pool.DescriptorPool) -> tuple[str, tuple[str, ...]]:
    try:
        extension = pool.FindExtensionByName(ACCESS_OPTION_NAME)
    except KeyError:
        return "UNSPECIFIED", ()
    # Re-parse with the pool's own message class so the extension is known to the parser.
    options_class = message_factory.GetMessageClass(pool.FindMessageTypeByName("google.protobuf.MethodOptions"))
    parsed: Any = options_class.FromString(options.SerializeToString())
    if not parsed.HasExtension(extension):
        return "UNSPECIFIED", ()
    policy = parsed.Extensions[extension]
    role_enum: Any = extension.message_type.fields_by_name["roles"].enum_type  # type: ignore[union-attr]
    roles = tuple(role_enum.values_by_number[r].name.removeprefix("ROLE_").lower() for r in policy.roles)
    return _AUDIENCE_NAMES.get(policy.audience, "UNSPECIFIED"), roles


def load(path: Path) -> Api:
    files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for proto in files.file:
        pool.Add(proto)
    comments: dict[str, str] = {}
    services: dict[str, list[Method]] = {}
    for proto in files.file:
        comments.update(leading_comments(proto))
        for service_proto in proto.service:
            full = f"{proto.package}.{service_proto.name}" if proto.package else service_proto.name
            service = pool.FindServiceByName(full)
            methods = services.setdefault(full, [])
            for method_proto in service_proto.method:
                options: Any = method_proto.options  # extension typing of the stubs is too narrow here
                http_rule = annotations_pb2.http
                bindings = tuple(_bindings(options.Extensions[http_rule])) if options.HasExtension(http_rule) else ()
                audience, roles = _access(method_proto.options, pool)
                comment = comments.get(f"{full}.{method_proto.name}", "")
                methods.append(
                    Method(
                        full,
                        method_proto.name,
                        service.methods_by_name[method_proto.name],
                        bindings,
                        audience,
                        roles,
                        comment,
                    )
                )
    return Api(files, pool, services, comments)

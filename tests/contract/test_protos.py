"""Contract tests on the protos: the policy every RPC must follow, read from the generated
descriptor set (gen/devinsider.binpb), plus buf lint and the freshness of the generated code.

Each check is a function returning the list of violations it finds, so a failure names every
offending element at once, and the `test_checks_detect_*` tests prove on a deliberately broken
copy of the descriptors that each check can fail.
"""

from __future__ import annotations

import filecmp
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, cast

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from devinsider.common.v1 import access_pb2

if TYPE_CHECKING:
    from google.protobuf.internal.extension_dict import _ExtensionFieldDescriptor

FileSet = descriptor_pb2.FileDescriptorSet
FileProto = descriptor_pb2.FileDescriptorProto
MessageProto = descriptor_pb2.DescriptorProto
MethodProto = descriptor_pb2.MethodDescriptorProto
Check = Callable[[FileSet], list[str]]

# Source-info path numbers (descriptor.proto field numbers).
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE, FILE_EXTENSION = 4, 5, 6, 7
MESSAGE_FIELD, MESSAGE_NESTED, MESSAGE_ENUM, MESSAGE_EXTENSION, MESSAGE_ONEOF = 2, 3, 4, 6, 8
ENUM_VALUE = 2
SERVICE_METHOD = 2

# The RabbitMQ exchanges of the seed system; every event message says which one carries it.
SEED_EXCHANGES = (
    "mail.exchange.direct",
    "devinsider_matching.exchange.direct",
    "user_updates_exchange",
    "odoo_company.exchange.direct",
    "odoo_program.exchange.direct",
    "odoo_investor.exchange.direct",
    "odoo_program_member.exchange.direct",
    "odoo_verified_pro.exchange.direct",
    "odoo_contact_support.exchange.direct",
    "devinsider_billing.exchange.direct",
    "unlock.exchange.fanout",
    # Added with the contact service (docs/consumers.md).
    "contact.exchange.topic",
    "odoo_contact_request.exchange.direct",
)
HTTP_BODY = ".google.api.HttpBody"
FIELD_MASK = ".google.protobuf.FieldMask"
EMPTY = ".google.protobuf.Empty"
T = descriptor_pb2.FieldDescriptorProto
# googleapis-common-protos types `google.api.http` as a plain FieldDescriptor; give it its real type.
HTTP = cast("_ExtensionFieldDescriptor[descriptor_pb2.MethodOptions, http_pb2.HttpRule]", annotations_pb2.http)


# ---------------------------------------------------------------------------------------------
# Walking the descriptors


def _ours(files: FileSet) -> list[FileProto]:
    return [f for f in files.file if f.package.startswith("devinsider.")]


def _messages_by_name(files: FileSet) -> dict[str, MessageProto]:
    """Every message of the set (nested ones too) by fully qualified name with a leading dot."""
    found: dict[str, MessageProto] = {}

    def walk(prefix: str, messages: list[MessageProto]) -> None:
        for message in messages:
            full = f"{prefix}.{message.name}"
            found[full] = message
            walk(full, list(message.nested_type))

    for file in files.file:
        walk(f".{file.package}" if file.package else "", list(file.message_type))
    return found


def _methods(files: FileSet) -> Iterator[tuple[str, MethodProto]]:
    """(`package.Service/Method`, method) for every RPC of our files."""
    for file in _ours(files):
        for service in file.service:
            for method in service.method:
                yield f"{file.package}.{service.name}/{method.name}", method


def _access(method: MethodProto) -> access_pb2.AccessPolicy | None:
    if not method.options.HasExtension(access_pb2.access):
        return None
    return method.options.Extensions[access_pb2.access]


def _http_rules(method: MethodProto) -> list[http_pb2.HttpRule]:
    """The method's HTTP rule and its additional bindings; empty without an annotation."""
    if not method.options.HasExtension(HTTP):
        return []
    rule = method.options.Extensions[HTTP]
    return [rule, *rule.additional_bindings]


def _verb_and_path(rule: http_pb2.HttpRule) -> tuple[str, str]:
    pattern = rule.WhichOneof("pattern")
    if pattern is None:
        return "", ""
    if pattern == "custom":
        return rule.custom.kind.upper(), rule.custom.path
    return pattern.upper(), str(getattr(rule, pattern))


def _field(message: MessageProto, name: str) -> descriptor_pb2.FieldDescriptorProto | None:
    return next((f for f in message.field if f.name == name), None)


def _resolve_path(
    messages: dict[str, MessageProto], message: MessageProto, dotted: str
) -> descriptor_pb2.FieldDescriptorProto | None:
    """The field a dotted path (`company.name`) designates, or None."""
    field = None
    current: MessageProto | None = message
    for part in dotted.split("."):
        if current is None:
            return None
        field = _field(current, part)
        if field is None:
            return None
        current = messages.get(field.type_name) if field.type == T.TYPE_MESSAGE else None
    return field


# ---------------------------------------------------------------------------------------------
# The checks


def check_access_policy(files: FileSet) -> list[str]:
    """Every RPC declares an access policy; AUDIENCE_ROLES lists roles, the others list none."""
    problems = []
    for name, method in _methods(files):
        policy = _access(method)
        if policy is None:
            problems.append(f"{name}: no (devinsider.common.v1.access) option")
        elif policy.audience == access_pb2.AUDIENCE_UNSPECIFIED:
            problems.append(f"{name}: access audience is unspecified")
        elif policy.audience == access_pb2.AUDIENCE_ROLES:
            if not policy.roles:
                problems.append(f"{name}: AUDIENCE_ROLES without roles")
            if access_pb2.ROLE_UNSPECIFIED in policy.roles:
                problems.append(f"{name}: ROLE_UNSPECIFIED among the roles")
        elif policy.roles:
            problems.append(f"{name}: roles listed with audience {policy.audience}")
    return problems


def check_http_bindings(files: FileSet) -> list[str]:
    """Every RPC but the service-only ones has a google.api.http rule; service-only ones have none."""
    problems = []
    for name, method in _methods(files):
        policy = _access(method)
        service_only = policy is not None and policy.audience == access_pb2.AUDIENCE_SERVICE
        rules = _http_rules(method)
        if service_only and rules:
            problems.append(f"{name}: service-only RPC exposed over HTTP")
        if not service_only and not rules:
            problems.append(f"{name}: no google.api.http rule")
    return problems


def check_http_rules_resolve(files: FileSet) -> list[str]:
    """Path variables, `body` and `response_body` name real fields; GET/DELETE carry no body;
    HttpBody only ever appears as a field, never as a whole request or response."""
    messages = _messages_by_name(files)
    problems = []
    for name, method in _methods(files):
        request, response = messages[method.input_type], messages[method.output_type]
        if HTTP_BODY in (method.input_type, method.output_type):
            problems.append(f"{name}: google.api.HttpBody as a top-level request or response")
        for rule in _http_rules(method):
            verb, path = _verb_and_path(rule)
            if not path.startswith("/v1/"):
                problems.append(f"{name}: HTTP path {path!r} is not under /v1/")
            for variable in re.findall(r"\{([^}=]+)(?:=[^}]*)?\}", path):
                if _resolve_path(messages, request, variable) is None:
                    problems.append(f"{name}: path variable {variable!r} is not a request field")
            if verb in ("GET", "DELETE") and rule.body:
                problems.append(f"{name}: {verb} with a body")
            if rule.body not in ("", "*") and _field(request, rule.body) is None:
                problems.append(f"{name}: body {rule.body!r} is not a request field")
            if rule.response_body:
                field = _field(response, rule.response_body)
                if field is None or field.type_name != HTTP_BODY:
                    problems.append(f"{name}: response_body {rule.response_body!r} is not an HttpBody field")
    return problems


def check_http_routes_unique(files: FileSet) -> list[str]:
    """No two RPCs (of any service) share an HTTP verb and path template: the gateway would
    route one of them to the wrong service."""
    seen: dict[tuple[str, str], str] = {}
    problems = []
    for name, method in _methods(files):
        for rule in _http_rules(method):
            route = _verb_and_path(rule)
            if route in seen:
                problems.append(f"{name}: {route} already bound by {seen[route]}")
            seen[route] = name
    return problems


def check_pagination(files: FileSet) -> list[str]:
    """List RPCs take page_size (int32) and page_token (string) and answer next_page_token."""
    messages = _messages_by_name(files)
    expected_request = {"page_size": T.TYPE_INT32, "page_token": T.TYPE_STRING}
    problems = []
    for name, method in _methods(files):
        if not method.name.startswith("List"):
            continue
        request, response = messages[method.input_type], messages[method.output_type]
        for field_name, field_type in expected_request.items():
            field = _field(request, field_name)
            if field is None or field.type != field_type or field.label == T.LABEL_REPEATED:
                problems.append(f"{name}: request lacks a singular {field_name}")
        token = _field(response, "next_page_token")
        if token is None or token.type != T.TYPE_STRING:
            problems.append(f"{name}: response lacks next_page_token")
    return problems


def check_standard_methods(files: FileSet) -> list[str]:
    """AIP shapes: Update takes an update_mask; Delete returns Empty; Get/Create/Update return
    a resource (a message with a `name` field)."""
    messages = _messages_by_name(files)
    problems = []
    for name, method in _methods(files):
        verb = re.match(r"[A-Z][a-z]+", method.name)
        kind = verb.group(0) if verb else ""
        response = messages[method.output_type]
        if kind == "Update":
            mask = _field(messages[method.input_type], "update_mask")
            if mask is None or mask.type_name != FIELD_MASK:
                problems.append(f"{name}: request lacks update_mask (google.protobuf.FieldMask)")
        if kind == "Delete" and method.output_type != EMPTY:
            problems.append(f"{name}: Delete does not return google.protobuf.Empty")
        if kind in ("Get", "Create", "Update") and method.output_type != EMPTY:
            is_resource = _field(response, "name") is not None
            is_http_body = any(f.type_name == HTTP_BODY for f in response.field)
            if not (is_resource or is_http_body):
                problems.append(f"{name}: {kind} does not return a resource")
    return problems


def _commentable_paths(file: FileProto) -> Iterator[tuple[tuple[int, ...], str]]:
    """(source-info path, element name) for every element of a file that needs a comment."""

    def enum(
        path: tuple[int, ...], proto: descriptor_pb2.EnumDescriptorProto, prefix: str
    ) -> Iterator[tuple[tuple[int, ...], str]]:
        yield path, f"{prefix}{proto.name}"
        for i, value in enumerate(proto.value):
            yield (*path, ENUM_VALUE, i), f"{prefix}{proto.name}.{value.name}"

    def message(path: tuple[int, ...], proto: MessageProto, prefix: str) -> Iterator[tuple[tuple[int, ...], str]]:
        if proto.options.map_entry:  # synthesised by protoc for a map field
            return
        full = f"{prefix}{proto.name}"
        yield path, full
        for i, field in enumerate(proto.field):
            yield (*path, MESSAGE_FIELD, i), f"{full}.{field.name}"
        for i, oneof in enumerate(proto.oneof_decl):
            members = [f for f in proto.field if f.HasField("oneof_index") and f.oneof_index == i]
            if not all(f.proto3_optional for f in members):  # skip the synthetic oneofs of `optional`
                yield (*path, MESSAGE_ONEOF, i), f"{full}.{oneof.name}"
        for i, extension in enumerate(proto.extension):
            yield (*path, MESSAGE_EXTENSION, i), f"{full}.{extension.name}"
        for i, nested in enumerate(proto.nested_type):
            yield from message((*path, MESSAGE_NESTED, i), nested, f"{full}.")
        for i, nested_enum in enumerate(proto.enum_type):
            yield from enum((*path, MESSAGE_ENUM, i), nested_enum, f"{full}.")

    for i, proto in enumerate(file.message_type):
        yield from message((FILE_MESSAGE, i), proto, "")
    for i, proto_enum in enumerate(file.enum_type):
        yield from enum((FILE_ENUM, i), proto_enum, "")
    for i, service in enumerate(file.service):
        yield (FILE_SERVICE, i), service.name
        for j, method in enumerate(service.method):
            yield (FILE_SERVICE, i, SERVICE_METHOD, j), f"{service.name}.{method.name}"
    for i, extension in enumerate(file.extension):
        yield (FILE_EXTENSION, i), extension.name


def check_comments(files: FileSet) -> list[str]:
    """Every service, method, message, field, oneof, enum, enum value and extension of our files
    has a leading comment."""
    problems = []
    for file in _ours(files):
        if not file.HasField("source_code_info"):
            problems.append(f"{file.name}: no source info in the descriptor set")
            continue
        comments = {tuple(loc.path): loc.leading_comments.strip() for loc in file.source_code_info.location}
        for path, element in _commentable_paths(file):
            if not comments.get(path):
                problems.append(f"{file.name}: {element} has no leading comment")
    return problems


# Packages whose service publishes no event of its own (only devinsider.common.v1 messages), and why.
NO_EVENTS = {"devinsider.notification.v1": "publishes only devinsider.common.v1.MailRequested"}


def check_events(files: FileSet) -> list[str]:
    """Every package with a service has an events.proto (but those of NO_EVENTS), and every event message
    there names the seed exchange that carries it."""
    problems = []
    ours = _ours(files)
    event_files = {f.package: f for f in ours if f.name.endswith("/events.proto")}
    for file in ours:
        if file.service and file.package not in event_files and file.package not in NO_EVENTS:
            problems.append(f"{file.package}: has a service but no events.proto")
    for file in event_files.values():
        if not file.message_type:
            problems.append(f"{file.name}: defines no event")
        comments = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}
        for i, message in enumerate(file.message_type):
            if not any(exchange in comments.get((FILE_MESSAGE, i), "") for exchange in SEED_EXCHANGES):
                problems.append(f"{file.name}: {message.name} does not name its exchange")
    return problems


CHECKS: dict[str, Check] = {
    "access": check_access_policy,
    "http": check_http_bindings,
    "http_resolve": check_http_rules_resolve,
    "http_unique": check_http_routes_unique,
    "pagination": check_pagination,
    "standard_methods": check_standard_methods,
    "comments": check_comments,
    "events": check_events,
}


# ---------------------------------------------------------------------------------------------
# The tests on the real descriptor set


def test_every_domain_is_in_the_descriptor_set(descriptor_set: FileSet) -> None:
    packages = {f.package for f in _ours(descriptor_set) if f.service}
    for domain in ("user", "company", "investor", "program", "matching", "billing", "contact", "notification"):
        assert f"devinsider.{domain}.v1" in packages


@pytest.mark.parametrize("check", list(CHECKS))
def test_contract_check_passes(descriptor_set: FileSet, check: str) -> None:
    problems = CHECKS[check](descriptor_set)
    assert problems == [], "\n".join(problems)


def test_rpc_status_protos_in_descriptor_set(descriptor_set: FileSet) -> None:
    # Envoy's convert_grpc_status renders google.rpc.Status (with its details) as JSON only when
    # these two files are inside the descriptor set it loads.
    names = {f.name for f in descriptor_set.file}
    missing = {"google/rpc/status.proto", "google/rpc/error_details.proto"} - names
    assert not missing, f"missing from gen/devinsider.binpb: {sorted(missing)}"


# ---------------------------------------------------------------------------------------------
# The checks can fail: each one finds the violation planted in a broken copy of the set


def _broken_copy(descriptor_set: FileSet, break_it: Callable[[FileProto], None]) -> FileSet:
    broken = FileSet()
    broken.CopyFrom(descriptor_set)
    company = next(f for f in broken.file if f.name == "devinsider/company/v1/company.proto")
    break_it(company)
    return broken


def _method(file: FileProto, name: str) -> MethodProto:
    return next(m for m in file.service[0].method if m.name == name)


def _message(file: FileProto, name: str) -> MessageProto:
    return next(m for m in file.message_type if m.name == name)


def _drop_field(message: MessageProto, name: str) -> None:
    index = next(i for i, f in enumerate(message.field) if f.name == name)
    del message.field[index]


def _uncomment_field(file: FileProto) -> None:
    message_index = next(i for i, m in enumerate(file.message_type) if m.name == "Company")
    for location in file.source_code_info.location:
        if tuple(location.path) == (FILE_MESSAGE, message_index, MESSAGE_FIELD, 1):
            location.leading_comments = ""


def _duplicate_route(file: FileProto) -> None:
    # DeleteCompany rebound onto GetCompany's verb and template.
    _method(file, "DeleteCompany").options.Extensions[HTTP].get = "/v1/{name=companies/*}"


BREAKAGES: dict[str, tuple[str, Callable[[FileProto], None], str]] = {
    "no_access": (
        "access",
        lambda f: _method(f, "GetCompany").options.ClearExtension(access_pb2.access),
        "GetCompany: no (devinsider.common.v1.access) option",
    ),
    "roles_missing": (
        "access",
        lambda f: _method(f, "CreateCompany").options.Extensions[access_pb2.access].ClearField("roles"),
        "CreateCompany: AUDIENCE_ROLES without roles",
    ),
    "no_http": (
        "http",
        lambda f: _method(f, "ListCompanies").options.ClearExtension(HTTP),
        "ListCompanies: no google.api.http rule",
    ),
    "service_only_over_http": (
        "http",
        lambda f: _method(f, "CheckPageAccess").options.Extensions[HTTP].CopyFrom(http_pb2.HttpRule(get="/v1/check")),
        "CheckPageAccess: service-only RPC exposed over HTTP",
    ),
    "bad_path_variable": (
        "http_resolve",
        lambda f: setattr(_method(f, "GetCompany").options.Extensions[HTTP], "get", "/v1/{nom=companies/*}"),
        "GetCompany: path variable 'nom' is not a request field",
    ),
    "duplicate_route": ("http_unique", _duplicate_route, "already bound by"),
    "no_page_token": (
        "pagination",
        lambda f: _drop_field(_message(f, "ListCompaniesRequest"), "page_token"),
        "ListCompanies: request lacks a singular page_token",
    ),
    "no_next_page_token": (
        "pagination",
        lambda f: _drop_field(_message(f, "ListMembersResponse"), "next_page_token"),
        "ListMembers: response lacks next_page_token",
    ),
    "no_update_mask": (
        "standard_methods",
        lambda f: _drop_field(_message(f, "UpdateCompanyRequest"), "update_mask"),
        "UpdateCompany: request lacks update_mask",
    ),
    "uncommented_field": ("comments", _uncomment_field, "Company.display_name has no leading comment"),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_checks_detect_violations(descriptor_set: FileSet, breakage: str) -> None:
    check, break_it, expected = BREAKAGES[breakage]
    problems = CHECKS[check](_broken_copy(descriptor_set, break_it))
    assert any(expected in problem for problem in problems), problems


# ---------------------------------------------------------------------------------------------
# buf lint


def _buf_lint(buf: Path, workspace: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(buf), "lint", "--error-format=json"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_buf_lint_passes(buf: Path, repo_root: Path) -> None:
    result = _buf_lint(buf, repo_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


BAD_PROTO = """syntax = "proto3";

package devinsider.bad.v1;

// A service named against the rules.
service Bad {
  // An RPC whose request and response are not named after it.
  rpc fetch(Color) returns (Color);
}

// A zero value without the _UNSPECIFIED suffix.
message Color {
  // The color.
  Shade shade = 1;
}

// Values not prefixed with the enum name.
enum Shade {
  // Zero.
  RED = 0;
  // One.
  BLUE = 1;
}
"""


def test_buf_lint_fails_on_a_bad_proto(buf: Path, buf_workspace: Path) -> None:
    control = _buf_lint(buf, buf_workspace)
    assert control.returncode == 0, "the copied workspace must lint clean before the bad file is added"

    bad = buf_workspace / "protos" / "devinsider" / "bad" / "v1" / "bad.proto"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_PROTO)
    result = _buf_lint(buf, buf_workspace)

    assert result.returncode != 0
    findings = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    rules = {finding["type"] for finding in findings if finding["path"].endswith("bad/v1/bad.proto")}
    assert {"SERVICE_SUFFIX", "RPC_PASCAL_CASE", "ENUM_ZERO_VALUE_SUFFIX", "ENUM_VALUE_PREFIX"} <= rules


# ---------------------------------------------------------------------------------------------
# Generated code in sync with the protos


def _generated_files(folder: Path) -> set[Path]:
    patterns = ("*_pb2.py", "*_pb2_grpc.py", "*_pb2.pyi", "*_pb2_grpc.pyi")
    return {p.relative_to(folder) for pattern in patterns for p in folder.rglob(pattern)}


def test_generated_code_in_sync(gen_module: ModuleType, repo_root: Path, tmp_path: Path) -> None:
    # Run the real generator with its outputs repointed into a temp dir, then compare bytes.
    vars(gen_module).update(
        ROOT=tmp_path,  # only used to print the outputs relative to it
        PY_OUT=tmp_path / "python",
        DESCRIPTOR_SET=tmp_path / "devinsider.binpb",
        THIRD_PARTY=tmp_path / "third_party",
    )
    gen_module.main()

    committed, fresh = repo_root / "gen" / "python", tmp_path / "python"
    committed_files, fresh_files = _generated_files(committed), _generated_files(fresh)
    assert committed_files == fresh_files, "stale gen/: run `make protos`"
    _, mismatch, errors = filecmp.cmpfiles(committed, fresh, sorted(map(str, fresh_files)), shallow=False)
    assert not mismatch and not errors, f"stale gen/ (run `make protos`): {mismatch + errors}"
    assert (repo_root / "gen" / "devinsider.binpb").read_bytes() == (tmp_path / "devinsider.binpb").read_bytes()

"""OpenAPI 3.1 document of every HTTP binding in a descriptor set, as Envoy's transcoder serves it."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from . import paths
from .comments import split_summary
from .descriptors import Api, Binding, Method
from .schemas import HTTP_BODY, Schemas, is_required, ref

STATUS = "google.rpc.Status"
RAW_BODY = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
# Every error is a google.rpc.Status JSON, whether a service returned it (the transcoder maps its code to
# the HTTP status) or Envoy refused the call itself (no route, token refused, body too large, no healthy
# upstream, timeout: the local reply mapper writes the same shape). Listed one by one rather than as a
# `default` response so that a status outside this list is a documentation bug clients can see.
ERRORS: dict[str, str] = {
    "400": "INVALID_ARGUMENT, FAILED_PRECONDITION or OUT_OF_RANGE; also a body or query parameter Envoy "
    "cannot transcode (malformed JSON, a wrong type, an unknown enum value or query parameter).",
    "401": "UNAUTHENTICATED: the bearer token is missing (where required), malformed, expired or not ours.",
    "403": "PERMISSION_DENIED: the caller lacks the role or the permission on the resource, or is blacklisted.",
    "404": "NOT_FOUND; also a path or method with no route at the edge.",
    "409": "ALREADY_EXISTS or ABORTED (a concurrent change won; retry with fresh data).",
    "413": "The request body is over the edge's limit.",
    "429": "RESOURCE_EXHAUSTED: a quota or rate limit.",
    "431": "The request line and headers are over the edge's limit (16 KB by default): send long values in a body.",
    "500": "INTERNAL, UNKNOWN or DATA_LOSS: a server bug.",
    "503": "UNAVAILABLE: the service is down, draining or has no healthy replica; retry with backoff.",
    "504": "DEADLINE_EXCEEDED: the service did not answer within the route's timeout.",
}

DESCRIPTION = (
    "REST/JSON through Envoy's gRPC-JSON transcoder: the proto3 JSON mapping (lowerCamelCase fields, int64 as "
    "strings, enums by name, RFC 3339 timestamps). Every error is a google.rpc.Status whose `details` carry an "
    "ErrorInfo `reason` to switch on (docs/errors.md)."
)
TOKENS = (
    "An access token of the issuer the edge trusts, sent as `Authorization: Bearer <token>`. Production: "
    "Keycloak's. Local (`make run`): the dev issuer's, "
    "`.venv/bin/devinsider-dev-token --sub alice --role isv --email alice@example.com`; paste it in Authorize."
)


def _query_params(message: Descriptor, schemas: Schemas, skip: set[str], prefix: str = "") -> list[dict[str, Any]]:
    """Fields not bound elsewhere, flattened with dotted names (`filter.status`); repeated ones repeat."""
    params: list[dict[str, Any]] = []
    for field in message.fields:
        name = f"{prefix}{field.json_name}"
        if field.name in skip or f"{prefix}{field.name}" in skip:
            continue
        nested = field.message_type
        if nested is not None and not field.is_repeated and not nested.full_name.startswith("google.protobuf."):
            params += _query_params(nested, schemas, skip, f"{name}.")
            continue
        if nested is not None and field.is_repeated:
            continue  # repeated messages and maps cannot travel in a query string
        param: dict[str, Any] = {"name": name, "in": "query", "schema": schemas.field(field)}
        if field.is_repeated:
            param["explode"] = True
        if field.full_name in schemas.comments:
            param["description"] = schemas.comments[field.full_name]
        if not prefix and is_required(field):
            param["required"] = True
        params.append(param)
    return params


def _body_schema(message: Descriptor, schemas: Schemas, path_fields: set[str]) -> dict[str, Any]:
    """The request message as the body (`body: "*"`), its REQUIRED fields required."""
    if not path_fields:
        return schemas.message(message)  # its component lists the REQUIRED fields
    kept = [f for f in message.fields if f.name not in path_fields]
    required = [f.json_name for f in kept if is_required(f)]
    # Fields bound in the path must not be repeated in the body (Envoy rejects the collision).
    inline: dict[str, Any] = {"type": "object", "properties": {f.json_name: schemas.field(f) for f in kept}}
    if required:
        inline["required"] = required
    return inline


def _field_body(request: Descriptor, field: FieldDescriptor, schemas: Schemas) -> dict[str, Any]:
    """`body: "field"`; for an update (the request has an `update_mask`), the resource with nothing required."""
    schema = schemas.field(field)
    if field.message_type is not None and "update_mask" in request.fields_by_name:
        schema |= schemas.partial(field.message_type)
    return {"application/json": {"schema": schema}}


def _operation(method: Method, binding: Binding, index: int, schemas: Schemas) -> tuple[str, dict[str, Any]]:
    converted = paths.convert(binding.path)
    request = method.method.input_type
    response = method.method.output_type
    parameters: list[dict[str, Any]] = [
        {
            "name": p.name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"} if p.multi_segment else {"type": "string", "pattern": "^[^/]+$"},
            "description": p.description,
        }
        for p in converted.params
    ]
    path = converted.path
    summary, details = split_summary(method.comment)
    operation: dict[str, Any] = {
        "operationId": f"{method.service.rsplit('.', 1)[-1]}_{method.name}" + (f"_{index}" if index else ""),
        "tags": [method.service.rsplit(".", 1)[-1]],
        "summary": summary or method.name,
        "description": (f"{details}\n\n" if details else "")
        + f"Access: {method.audience}"
        + (f" ({', '.join(method.roles)})" if method.roles else "")
        + f". gRPC: `{method.service}/{method.name}`.",
        "x-access": {"audience": method.audience, "roles": list(method.roles)},
        "security": [{}, {"bearer": []}] if method.public else [{"bearer": []}],
    }
    top_path_fields = {f.split(".")[0] for f in converted.fields if "." not in f}
    if binding.body == "*":
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _body_schema(request, schemas, top_path_fields)}},
        }
    else:
        skip = converted.fields | ({binding.body} if binding.body else set())
        parameters += _query_params(request, schemas, skip)
        if binding.body:
            field = request.fields_by_name[binding.body]
            raw = field.message_type is not None and field.message_type.full_name == HTTP_BODY
            operation["requestBody"] = {
                "required": True,
                "content": RAW_BODY if raw else _field_body(request, field, schemas),
            }
    operation["parameters"] = parameters
    out = response.fields_by_name[binding.response_body].message_type if binding.response_body else response
    if out is not None and out.full_name == HTTP_BODY:
        ok: dict[str, Any] = {"description": "The raw body.", "content": RAW_BODY}
    else:
        ok = {"description": "OK", "content": {"application/json": {"schema": schemas.message(response)}}}
    errors = [code for code in ERRORS if code != "413" or "requestBody" in operation]
    operation["responses"] = {"200": ok} | {code: {"$ref": f"#/components/responses/{code}"} for code in errors}
    return path, operation


DETAILS_FILE = "google/rpc/error_details.proto"
TYPE_URL_PREFIX = "type.googleapis.com/"


def _detail(type_name: str, **fields: Any) -> dict[str, Any]:
    return {"@type": f"{TYPE_URL_PREFIX}{type_name}", **fields}


# What a client meets (docs/errors.md); the linter checks them against the schemas.
_EXAMPLES: dict[str, dict[str, Any]] = {
    "400": {
        "code": 3,
        "message": "invalid company: company.display_name: is required",
        "details": [
            _detail("google.rpc.ErrorInfo", reason="INVALID_ARGUMENT", domain="company.devinsider.io"),
            _detail(
                "google.rpc.BadRequest",
                fieldViolations=[{"field": "company.display_name", "description": "is required"}],
            ),
        ],
    },
    "401": {"code": 16, "message": "Jwt is missing"},  # refused by the edge itself: no ErrorInfo
    "404": {
        "code": 5,
        "message": "companies/8f14e45f does not exist",
        "details": [_detail("google.rpc.ErrorInfo", reason="COMPANY_NOT_FOUND", domain="company.devinsider.io")],
    },
    "429": {
        "code": 8,
        "message": "too many invitations per page",
        "details": [
            _detail("google.rpc.ErrorInfo", reason="INVITATIONS_RATE_LIMITED", domain="company.devinsider.io"),
            _detail("google.rpc.RetryInfo", retryDelay="1800s"),
            _detail(
                "google.rpc.QuotaFailure",
                violations=[{"subject": "companies/8f14e45f", "description": "30 invitations per page per 3600 s"}],
            ),
        ],
    },
}


def _status_schema(api: Api, schemas: Schemas) -> None:
    """google.rpc.Status with typed `details`: each one a message of google/rpc/error_details.proto rendered
    as the transcoder renders an Any, the message's JSON fields beside its `@type` URL."""
    schemas.message(api.pool.FindMessageTypeByName(STATUS))
    try:
        kinds = list(api.pool.FindFileByName(DETAILS_FILE).message_types_by_name.values())
    except KeyError:
        return  # not in the set (Envoy could not render them either): `details` stays a list of Any
    typed = [
        {
            "title": kind.name,
            "allOf": [schemas.message(kind)],
            "type": "object",
            "properties": {"@type": {"const": f"{TYPE_URL_PREFIX}{kind.full_name}"}},
            "required": ["@type"],
        }
        for kind in kinds
    ]
    properties = schemas.components[STATUS]["properties"]
    properties["details"] = {**properties["details"], "items": {"oneOf": typed}}


def _error_responses() -> dict[str, dict[str, Any]]:
    responses: dict[str, dict[str, Any]] = {}
    for code, text in ERRORS.items():
        content: dict[str, Any] = {"schema": ref(STATUS)}
        if code in _EXAMPLES:
            content["example"] = _EXAMPLES[code]
        description = f"{text} Body: a google.rpc.Status; switch on its ErrorInfo `reason` (docs/errors.md)."
        responses[code] = {"description": description, "content": {"application/json": content}}
    return responses


def document(api: Api, title: str = "DevInsider API", version: str = "v1") -> dict[str, Any]:
    schemas = Schemas(api.comments)
    _status_schema(api, schemas)
    paths_out: dict[str, dict[str, Any]] = {}
    tags = []
    for service, methods in sorted(api.services.items()):
        tags.append({"name": service.rsplit(".", 1)[-1], "description": api.comments.get(service, service)})
        for method in methods:
            for index, binding in enumerate(method.bindings):
                path, operation = _operation(method, binding, index, schemas)
                paths_out.setdefault(path, {})[binding.verb] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "The edge that serves this document."}],
        "tags": tags,
        "paths": paths_out,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "responses": _error_responses(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": TOKENS}
            },
        },
    }

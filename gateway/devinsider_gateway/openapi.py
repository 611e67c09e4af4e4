"""OpenAPI 3.1 document of every HTTP binding in a descriptor set, as Envoy's transcoder serves it."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor

from . import paths
from .descriptors import Api, Binding, Method
from .schemas import HTTP_BODY, Schemas, ref

STATUS = "google.rpc.Status"
RAW_BODY = {"*/*": {"schema": {"type": "string", "format": "binary"}}}


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
        params.append(param)
    return params


def _body_schema(message: Descriptor, schemas: Schemas, path_fields: set[str]) -> dict[str, Any]:
    if not path_fields:
        return schemas.message(message)
    # Fields bound in the path must not be repeated in the body (Envoy rejects the collision).
    kept = {f.json_name: schemas.field(f) for f in message.fields if f.name not in path_fields}
    return {"type": "object", "properties": kept}


def _operation(method: Method, binding: Binding, index: int, schemas: Schemas) -> tuple[str, dict[str, Any]]:
    converted = paths.convert(binding.path)
    request = method.method.input_type
    response = method.method.output_type
    parameters: list[dict[str, Any]] = [
        {
            "name": p.name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": f"`{p.field}` (`{p.pattern}`)" + (", may contain `/`" if p.multi_segment else ""),
        }
        for p in converted.params
    ]
    operation: dict[str, Any] = {
        "operationId": f"{method.service.rsplit('.', 1)[-1]}_{method.name}" + (f"_{index}" if index else ""),
        "tags": [method.service.rsplit(".", 1)[-1]],
        "summary": method.name,
        "description": f"{method.comment}\n\nAccess: {method.audience}"
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
            content = RAW_BODY if raw else {"application/json": {"schema": schemas.field(field)}}
            operation["requestBody"] = {"required": True, "content": content}
    operation["parameters"] = parameters
    out = response.fields_by_name[binding.response_body].message_type if binding.response_body else response
    if out is not None and out.full_name == HTTP_BODY:
        ok: dict[str, Any] = {"description": "The raw body.", "content": RAW_BODY}
    else:
        ok = {"description": "OK", "content": {"application/json": {"schema": schemas.message(response)}}}
    error = {
        "description": "A google.rpc.Status (HTTP status from its code)",
        "content": {"application/json": {"schema": ref(STATUS)}},
    }
    operation["responses"] = {"200": ok, "default": error}
    return converted.path, operation


def document(api: Api, title: str = "DevInsider API", version: str = "v1") -> dict[str, Any]:
    schemas = Schemas(api.comments)
    schemas.message(api.pool.FindMessageTypeByName(STATUS))
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
        "info": {"title": title, "version": version, "description": "REST/JSON through Envoy's gRPC-JSON transcoder."},
        "tags": tags,
        "paths": paths_out,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }

"""JSON Schemas of proto messages as Envoy's transcoder renders them (proto3 JSON mapping).

int64 kinds are strings, enums are their value names, Timestamp is an RFC 3339 string, Duration
a "1.5s" string, FieldMask a comma-separated string of lowerCamelCase paths, wrappers their
wrapped value. Messages land in `components.schemas` under their full proto name.
"""

from __future__ import annotations

from typing import Any

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

F = FieldDescriptor
_INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"type": "integer", "format": "uint32", "minimum": 0, "maximum": 2**32 - 1}
# 64-bit integers travel as decimal strings (the transcoder also reads a JSON number on input).
_INT64 = {"type": "string", "format": "int64", "pattern": r"^-?[0-9]+$"}
_UINT64 = {"type": "string", "format": "uint64", "pattern": r"^[0-9]+$"}
_SCALARS: dict[int, dict[str, Any]] = {
    F.TYPE_DOUBLE: {"type": "number", "format": "double"},
    F.TYPE_FLOAT: {"type": "number", "format": "float"},
    F.TYPE_INT32: _INT32,
    F.TYPE_SINT32: _INT32,
    F.TYPE_SFIXED32: _INT32,
    F.TYPE_UINT32: _UINT32,
    F.TYPE_FIXED32: _UINT32,
    F.TYPE_INT64: _INT64,
    F.TYPE_SINT64: _INT64,
    F.TYPE_SFIXED64: _INT64,
    F.TYPE_UINT64: _UINT64,
    F.TYPE_FIXED64: _UINT64,
    F.TYPE_BOOL: {"type": "boolean"},
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BYTES: {"type": "string", "format": "byte", "contentEncoding": "base64"},
}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?s$"},
    "google.protobuf.FieldMask": {"type": "string", "description": "Comma-separated lowerCamelCase field paths."},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
    "google.protobuf.DoubleValue": _SCALARS[F.TYPE_DOUBLE],
    "google.protobuf.FloatValue": _SCALARS[F.TYPE_FLOAT],
    "google.protobuf.Int64Value": _SCALARS[F.TYPE_INT64],
    "google.protobuf.UInt64Value": _SCALARS[F.TYPE_UINT64],
    "google.protobuf.Int32Value": _SCALARS[F.TYPE_INT32],
    "google.protobuf.UInt32Value": _SCALARS[F.TYPE_UINT32],
    "google.protobuf.BoolValue": _SCALARS[F.TYPE_BOOL],
    "google.protobuf.StringValue": _SCALARS[F.TYPE_STRING],
    "google.protobuf.BytesValue": _SCALARS[F.TYPE_BYTES],
}
HTTP_BODY = "google.api.HttpBody"


def behaviors(field: FieldDescriptor) -> set[int]:
    """The field's `google.api.field_behavior` values (REQUIRED, OUTPUT_ONLY...)."""
    extension: Any = field_behavior_pb2.field_behavior  # typed as a plain FieldDescriptor by the stubs
    return set(field.GetOptions().Extensions[extension])


def is_required(field: FieldDescriptor) -> bool:
    return field_behavior_pb2.REQUIRED in behaviors(field)


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


class Schemas:
    """Collects the component schemas reachable from the messages asked for."""

    def __init__(self, comments: dict[str, str]) -> None:
        self.comments = comments
        self.components: dict[str, dict[str, Any]] = {}

    def message(self, message: Descriptor) -> dict[str, Any]:
        name = message.full_name
        if name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[name])
        if name not in self.components:
            self.components[name] = {}  # placed first: recursive messages refer to themselves
            properties = {field.json_name: self.field(field) for field in message.fields}
            schema: dict[str, Any] = {"type": "object", "properties": properties}
            required = [field.json_name for field in message.fields if is_required(field)]
            if required:
                schema["required"] = required
            if name in self.comments:
                schema["description"] = self.comments[name]
            self.components[name] = schema
        return ref(name)

    def partial(self, message: Descriptor) -> dict[str, Any]:
        """The message as the body of an update with a field mask: REQUIRED fields may be left out (they
        are required when the resource is created and always present in responses, AIP-203)."""
        full = self.message(message)
        name = f"{message.full_name}-Update"  # `-` cannot occur in a proto name: no collision
        component = self.components.get(message.full_name, {})
        if "required" not in component:
            return full
        if name not in self.components:
            partial = {k: v for k, v in component.items() if k != "required"}
            note = "Every field is optional here: only those named in the update mask (or set in the body) change."
            partial["description"] = f"{component.get('description', message.full_name)} {note}"
            self.components[name] = partial
        return ref(name)

    def value(self, field: FieldDescriptor) -> dict[str, Any]:
        """The schema of one value of the field (an element, for repeated fields)."""
        if field.message_type is not None:
            return self.message(field.message_type)
        if field.enum_type is not None:
            enum = field.enum_type
            values = [v.name for v in enum.values]
            notes = {v.name: self.comments.get(f"{enum.full_name}.{v.name}") for v in enum.values}
            described = [f"`{name}`: {note}" for name, note in notes.items() if note]
            schema: dict[str, Any] = {"type": "string", "enum": values}
            if described:
                schema["description"] = "; ".join(described)
            return schema
        return dict(_SCALARS[field.type])

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            entry = field.message_type.fields_by_name
            schema: dict[str, Any] = {"type": "object", "additionalProperties": self.value(entry["value"])}
        elif field.is_repeated:
            schema = {"type": "array", "items": self.value(field)}
        else:
            schema = self.value(field)
        description = self.comments.get(field.full_name)
        if description:
            # A $ref with siblings is valid in 3.1; the field's comment beats the message's.
            schema = {**schema, "description": description}
        if field_behavior_pb2.OUTPUT_ONLY in behaviors(field):
            schema = {**schema, "readOnly": True}  # set by the server, ignored in requests
        return schema

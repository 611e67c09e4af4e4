"""Proto comments by element name, from the descriptor set's source info (OpenAPI descriptions)."""

from __future__ import annotations

import re

from google.protobuf import descriptor_pb2


def leading_comments(proto: descriptor_pb2.FileDescriptorProto) -> dict[str, str]:
    """Leading comments keyed by full name, for messages, fields, enums, values, services and methods."""
    names: dict[tuple[int, ...], str] = {}
    prefix = f"{proto.package}." if proto.package else ""

    def walk_message(message: descriptor_pb2.DescriptorProto, path: tuple[int, ...], scope: str) -> None:
        full = f"{scope}{message.name}"
        names[path] = full
        for i, field in enumerate(message.field):
            names[(*path, 2, i)] = f"{full}.{field.name}"
        for i, nested in enumerate(message.nested_type):
            walk_message(nested, (*path, 3, i), f"{full}.")
        for i, enum in enumerate(message.enum_type):
            walk_enum(enum, (*path, 4, i), f"{full}.")

    def walk_enum(enum: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...], scope: str) -> None:
        names[path] = f"{scope}{enum.name}"
        for i, value in enumerate(enum.value):
            names[(*path, 2, i)] = f"{scope}{enum.name}.{value.name}"

    for i, message in enumerate(proto.message_type):
        walk_message(message, (4, i), prefix)
    for i, enum in enumerate(proto.enum_type):
        walk_enum(enum, (5, i), prefix)
    for i, service in enumerate(proto.service):
        names[(6, i)] = f"{prefix}{service.name}"
        for j, method in enumerate(service.method):
            names[(6, i, 2, j)] = f"{prefix}{service.name}.{method.name}"
    found: dict[str, str] = {}
    for location in proto.source_code_info.location:
        name = names.get(tuple(location.path))
        if name and location.leading_comments.strip():
            found[name] = " ".join(line.strip() for line in location.leading_comments.strip().splitlines())
    return found


# A sentence ends at `.`, `!` or `?` followed by a capital: "e.g. `FR`" and "i.e. an owner" do not split.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def split_summary(comment: str) -> tuple[str, str]:
    """The comment's first sentence, without its period (an OpenAPI summary), and the rest."""
    first, *rest = _SENTENCE_END.split(comment.strip(), maxsplit=1)
    return first.removesuffix("."), "".join(rest)

"""Requests whose bytes are not a valid message become INVALID_ARGUMENT instead of INTERNAL.

Envoy's transcoder copies URL path and query bytes into proto string fields as they are
(`/v1/companies/%ff%fe`), and protobuf refuses a string field that is not UTF-8. grpcio parses the
request before any interceptor runs and answers a parse failure with INTERNAL ("Exception
deserializing request!"), a 500 at the edge. `tolerant` wraps a handler's deserializer so that the
failure reaches the interceptor as an `Undecodable` value, which it turns into a 400 naming the
fields (this holds for raw gRPC callers too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from google.protobuf import descriptor, descriptor_pool
from google.protobuf.message import DecodeError

from devinsider_common import errors

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


@dataclass(frozen=True)
class Undecodable:
    """The raw bytes of a request the protobuf parser refused, with the gRPC method path they came for."""

    method: str  # `/pkg.Service/Method`
    data: bytes

    def raise_error(self) -> NoReturn:
        """INVALID_ARGUMENT naming the string fields that are not UTF-8 (or the message type, if none is)."""
        full_name = self.method.lstrip("/").replace("/", ".")
        message = descriptor_pool.Default().FindMethodByName(full_name).input_type
        violations = errors.Violations()
        try:
            for path in dict.fromkeys(_non_utf8_fields(message, self.data, "")):
                violations.add(path, "must be valid UTF-8 (a URL's percent-encoded bytes are decoded as UTF-8)")
        except (IndexError, ValueError):
            pass  # not even well-formed protobuf: no field to name
        violations.raise_if_any("the request has text that is not UTF-8")
        raise errors.InvalidArgument(f"the request is not a valid {message.full_name} message")


def tolerant(deserializer: Callable[[bytes], Any] | None, method: str) -> Callable[[bytes], Any] | None:
    """`deserializer` returning an `Undecodable` instead of raising when the bytes are not a valid message."""
    if deserializer is None:
        return None
    parse = deserializer

    def deserialize(data: bytes) -> Any:
        try:
            return parse(data)
        except DecodeError:
            return Undecodable(method, data)

    return deserialize


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]  # IndexError: truncated
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _non_utf8_fields(message: descriptor.Descriptor, data: bytes, prefix: str) -> Iterator[str]:
    """Paths of the string fields (nested ones too) whose bytes are not UTF-8, read off the wire format."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            _, pos = _varint(data, pos)
        elif wire_type == _FIXED64:
            pos += 8
        elif wire_type == _FIXED32:
            pos += 4
        elif wire_type == _LENGTH:
            length, pos = _varint(data, pos)
            chunk, pos = data[pos : pos + length], pos + length
            field = message.fields_by_number.get(number)
            if field is None:
                continue
            if field.type == field.TYPE_STRING:
                try:
                    chunk.decode("utf-8")
                except UnicodeDecodeError:
                    yield prefix + field.name
            elif field.message_type is not None:
                yield from _non_utf8_fields(field.message_type, chunk, f"{prefix}{field.name}.")
        else:
            raise ValueError(f"wire type {wire_type} is not used by our messages")

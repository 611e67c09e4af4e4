"""Helpers every servicer uses to turn request fields into use-case arguments."""

from __future__ import annotations

import enum
from collections.abc import Container
from typing import Final, TypeVar

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.context import current_principal

E = TypeVar("E", bound=enum.IntEnum)

# Longest idempotency key (`request_id`) a create accepts; the services store it in a String(128) column.
MAX_REQUEST_ID: Final = 128


def caller() -> Principal:
    """The authenticated caller. The access policy already refused anonymous calls; this guard
    makes a handler that forgot to declare its policy fail closed instead of running anonymously."""
    principal = current_principal()
    if principal is None:
        raise errors.Unauthenticated("a valid bearer token is required", reason="TOKEN_MISSING")
    return principal


def check_enum(value: int, known: Container[int], path: str) -> None:
    """INVALID_ARGUMENT for a value the proto enum does not define (0, unspecified, passes)."""
    if value and value not in known:
        raise errors.InvalidArgument.for_field(path, f"unknown value {value}")


def optional_enum(kind: type[E], value: int, path: str) -> E | None:
    """None for the unspecified value; INVALID_ARGUMENT for an unknown one."""
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise errors.InvalidArgument.for_field(path, f"unknown value {value}") from None


def required_enum(kind: type[E], value: int, path: str) -> E:
    found = optional_enum(kind, value, path)
    if found is None:
        raise errors.InvalidArgument.for_field(path, "is required")
    return found


def idempotency_key(value: str, path: str = "request_id") -> str:
    """The idempotency key of a create, the same rule in every service: surrounding blanks stripped;
    longer than MAX_REQUEST_ID characters is INVALID_ARGUMENT with a field violation (never cut, which
    would make two different keys one). Empty: no key (a service that requires one says so itself)."""
    key = value.strip()
    if len(key) > MAX_REQUEST_ID:
        raise errors.InvalidArgument.for_field(path, f"must be at most {MAX_REQUEST_ID} characters")
    return key

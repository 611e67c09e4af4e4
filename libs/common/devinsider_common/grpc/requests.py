"""Helpers every servicer uses to turn request fields into use-case arguments."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Final, TypeVar, overload

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.context import current_principal
from devinsider_common.errors import Violations

E = TypeVar("E", bound=enum.IntEnum)
T = TypeVar("T")

# Longest idempotency key (`request_id`) a create accepts; the services store it in a String(128) column.
MAX_REQUEST_ID: Final = 128


def caller() -> Principal:
    """The authenticated caller. The access policy already refused anonymous calls; this guard
    makes a handler that forgot to declare its policy fail closed instead of running anonymously."""
    principal = current_principal()
    if principal is None:
        raise errors.Unauthenticated("a valid bearer token is required", reason="TOKEN_MISSING")
    return principal


def _lookup(kind: type[enum.IntEnum] | Mapping[int, object], value: int) -> object | None:
    if isinstance(kind, Mapping):
        return kind.get(value)
    return kind._value2member_map_.get(value)


@overload
def optional_enum(kind: type[E], value: int, path: str, checks: Violations | None = None) -> E | None: ...
@overload
def optional_enum(kind: Mapping[int, T], value: int, path: str, checks: Violations | None = None) -> T | None: ...
def optional_enum(
    kind: type[enum.IntEnum] | Mapping[int, object], value: int, path: str, checks: Violations | None = None
) -> object | None:
    """The domain value of a proto enum field: None for 0 (unspecified); an unknown value is INVALID_ARGUMENT
    with a field violation at `path`, raised at once or, given `checks`, added there (and None returned).

    `kind` is the domain IntEnum when its values are the proto numbers, else a mapping proto number -> value.
    This is the one enum parser of the services: every proto enum field goes through it or the two below."""
    if not value:
        return None
    found = _lookup(kind, value)
    if found is None:
        _refuse(checks, path, f"unknown value {value}")
    return found


@overload
def required_enum(kind: type[E], value: int, path: str) -> E: ...
@overload
def required_enum(kind: Mapping[int, T], value: int, path: str) -> T: ...
def required_enum(kind: type[enum.IntEnum] | Mapping[int, object], value: int, path: str) -> object:
    """As optional_enum, but 0 (unspecified) is INVALID_ARGUMENT too ("is required")."""
    found = optional_enum(kind, value, path)
    if found is None:
        raise errors.InvalidArgument.for_field(path, "is required")
    return found


@overload
def repeated_enum(
    kind: type[E], values: Iterable[int], path: str, checks: Violations | None = None
) -> tuple[E, ...]: ...
@overload
def repeated_enum(
    kind: Mapping[int, T], values: Iterable[int], path: str, checks: Violations | None = None
) -> tuple[T, ...]: ...
def repeated_enum(
    kind: type[enum.IntEnum] | Mapping[int, object],
    values: Iterable[int],
    path: str,
    checks: Violations | None = None,
) -> tuple[object, ...]:
    """The domain values of a repeated proto enum field, in order. Each value is looked up as it is (0 is
    accepted only where the domain defines it); every unknown one is a field violation at `path[i]`, all
    raised together or, given `checks`, added there (and left out)."""
    own = Violations() if checks is None else checks
    found: list[object] = []
    for index, value in enumerate(values):
        item = _lookup(kind, value)
        if item is None:
            own.add(f"{path}[{index}]", f"unknown value {value}")
        else:
            found.append(item)
    if checks is None:
        own.raise_if_any()
    return tuple(found)


def _refuse(checks: Violations | None, path: str, description: str) -> None:
    if checks is None:
        raise errors.InvalidArgument.for_field(path, description)
    checks.add(path, description)


def idempotency_key(value: str, path: str = "request_id") -> str:
    """The idempotency key of a create, the same rule in every service: surrounding blanks stripped;
    longer than MAX_REQUEST_ID characters is INVALID_ARGUMENT with a field violation (never cut, which
    would make two different keys one). Empty: no key (a service that requires one says so itself)."""
    key = value.strip()
    if len(key) > MAX_REQUEST_ID:
        raise errors.InvalidArgument.for_field(path, f"must be at most {MAX_REQUEST_ID} characters")
    return key

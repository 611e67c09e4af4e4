"""The one parser of proto enum values into domain values (devinsider_common.grpc.requests)."""

from __future__ import annotations

import enum

import pytest

from devinsider_common import errors
from devinsider_common.grpc.requests import optional_enum, repeated_enum, required_enum


class Colour(enum.IntEnum):
    RED = 1
    GREEN = 2


class Size(enum.IntEnum):
    UNSPECIFIED = 0
    SMALL = 1


class State(enum.StrEnum):
    OPEN = "open"
    SHUT = "shut"


# Proto numbers -> domain values, for a domain enum whose values are not the proto numbers.
STATES = {1: State.OPEN, 2: State.SHUT}


def _violations(error: pytest.ExceptionInfo[errors.InvalidArgument]) -> list[tuple[str, str]]:
    return [(v.field, v.description) for v in error.value.violations]


@pytest.mark.parametrize("kind", [Colour, {1: Colour.RED, 2: Colour.GREEN}])
def test_optional_enum_reads_known_values_and_none_for_unspecified(kind: object) -> None:
    assert optional_enum(kind, 2, "colour") is Colour.GREEN  # type: ignore[call-overload]
    assert optional_enum(kind, 0, "colour") is None  # type: ignore[call-overload]


def test_optional_enum_reads_through_a_mapping() -> None:
    assert optional_enum(STATES, 2, "state") is State.SHUT
    assert optional_enum(STATES, 0, "state") is None


def test_unspecified_is_none_even_where_the_domain_defines_zero() -> None:
    assert optional_enum(Size, 0, "size") is None
    assert (optional_enum(Size, 0, "size") or Size.UNSPECIFIED) is Size.UNSPECIFIED


def test_an_unknown_value_is_a_field_violation() -> None:
    with pytest.raises(errors.InvalidArgument) as error:
        optional_enum(Colour, 7, "filter.colour")
    assert _violations(error) == [("filter.colour", "unknown value 7")]
    with pytest.raises(errors.InvalidArgument) as error:
        optional_enum(STATES, -1, "state")
    assert _violations(error) == [("state", "unknown value -1")]


def test_given_checks_an_unknown_value_is_collected_not_raised() -> None:
    checks = errors.Violations()
    assert optional_enum(Colour, 9, "colour", checks) is None
    assert optional_enum(Colour, 1, "other", checks) is Colour.RED
    assert [(v.field, v.description) for v in checks.items] == [("colour", "unknown value 9")]


def test_required_enum_refuses_unspecified_and_unknown() -> None:
    assert required_enum(Colour, 1, "colour") is Colour.RED
    assert required_enum(STATES, 1, "state") is State.OPEN
    with pytest.raises(errors.InvalidArgument) as error:
        required_enum(Colour, 0, "colour")
    assert _violations(error) == [("colour", "is required")]
    with pytest.raises(errors.InvalidArgument) as error:
        required_enum(STATES, 3, "state")
    assert _violations(error) == [("state", "unknown value 3")]


def test_repeated_enum_keeps_order_and_reports_every_bad_item() -> None:
    assert repeated_enum(Colour, [2, 1, 2], "colours") == (Colour.GREEN, Colour.RED, Colour.GREEN)
    assert repeated_enum(STATES, [2], "states") == (State.SHUT,)
    assert repeated_enum(Colour, [], "colours") == ()
    with pytest.raises(errors.InvalidArgument) as error:
        repeated_enum(Colour, [1, 5, 0], "colours")
    assert _violations(error) == [("colours[1]", "unknown value 5"), ("colours[2]", "unknown value 0")]


def test_repeated_enum_accepts_zero_only_where_the_domain_defines_it() -> None:
    assert repeated_enum(Size, [0, 1], "sizes") == (Size.UNSPECIFIED, Size.SMALL)


def test_repeated_enum_given_checks_collects_and_leaves_bad_items_out() -> None:
    checks = errors.Violations()
    assert repeated_enum(STATES, [1, 4], "states", checks) == (State.OPEN,)
    assert [(v.field, v.description) for v in checks.items] == [("states[1]", "unknown value 4")]

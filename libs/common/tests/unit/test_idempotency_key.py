"""The idempotency-key (`request_id`) rule every service applies: stripped, at most 128 characters."""

from __future__ import annotations

import pytest

from devinsider_common import errors
from devinsider_common.grpc.requests import MAX_REQUEST_ID, idempotency_key


@pytest.mark.parametrize(
    ("sent", "key"),
    [("", ""), ("   ", ""), ("retry-1", "retry-1"), ("  retry-1\t\n", "retry-1"), ("k" * 128, "k" * 128)],
)
def test_a_key_is_stripped_and_kept_whole(sent: str, key: str) -> None:
    assert idempotency_key(sent) == key


def test_the_length_counts_after_stripping() -> None:
    assert idempotency_key(f"  {'k' * MAX_REQUEST_ID}  ") == "k" * MAX_REQUEST_ID


@pytest.mark.parametrize("path", ["request_id", "checkout.request_id"])
def test_a_key_over_128_characters_is_invalid_argument_on_its_field_never_cut(path: str) -> None:
    with pytest.raises(errors.InvalidArgument) as raised:
        idempotency_key("k" * (MAX_REQUEST_ID + 1), path)
    assert [(v.field, v.description) for v in raised.value.violations] == [(path, "must be at most 128 characters")]

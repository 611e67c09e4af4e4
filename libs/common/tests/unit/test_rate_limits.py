"""Rate limits counted from stored rows, and the RESOURCE_EXHAUSTED status they become."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.rpc import error_details_pb2

from devinsider_common import errors
from devinsider_common.grpc.status import error_info, to_status_proto
from devinsider_common.rate_limits import RateLimit

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _never(since: datetime, limit: int) -> list[datetime]:
    raise AssertionError("a limit that is off reads nothing")


def test_a_limit_of_zero_is_off() -> None:
    RateLimit(0).check(NOW, _never, what="things", reason="THINGS_RATE_LIMITED")


def test_the_window_is_full_at_the_limit_and_frees_when_the_oldest_leaves() -> None:
    limit = RateLimit.per_seconds(2, 3600)
    asked: list[tuple[datetime, int]] = []

    def recent(since: datetime, count: int) -> list[datetime]:
        asked.append((since, count))
        return [NOW - timedelta(minutes=5), NOW - timedelta(minutes=40)][:count]

    limit.check(NOW, lambda since, count: recent(since, count)[:1], what="things", reason="X_RATE_LIMITED")
    with pytest.raises(errors.ResourceExhausted) as raised:
        limit.check(NOW, recent, what="things", reason="X_RATE_LIMITED")
    assert asked[-1] == (NOW - timedelta(hours=1), 2)
    assert raised.value.reason == "X_RATE_LIMITED"
    assert raised.value.retry_after_seconds == 20 * 60
    assert raised.value.message == "at most 2 things per hour; retry in 1200 s"


def test_resource_exhausted_carries_retry_info() -> None:
    status = to_status_proto(errors.ResourceExhausted("slow down", reason="X", retry_after_seconds=90.5), "user")
    assert status.code == 8 and error_info(status).reason == "X"  # type: ignore[union-attr]
    retry = error_details_pb2.RetryInfo()
    assert [d.Unpack(retry) for d in status.details] == [False, True]
    assert retry.retry_delay.ToTimedelta() == timedelta(seconds=90.5)
    without = to_status_proto(errors.ResourceExhausted("quota"), "user")
    assert len(without.details) == 1  # no delay known, no RetryInfo

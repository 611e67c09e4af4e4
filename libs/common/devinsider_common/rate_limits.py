"""Creation rate limits counted from the database: at most N rows per window and owner.

The rows a use case already stores (invitations of a page, support requests of a user) are the
counter, so every replica sees the same count without Redis, and a restart forgets nothing. Two
concurrent creations may both pass the last free slot: a throttle, not an exact quota.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from devinsider_common import errors
from devinsider_common.clock import as_utc

Recent = Callable[[datetime, int], Sequence[datetime]]


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` creations per `window`; a limit of 0 turns the check off."""

    limit: int = 0
    window: timedelta = timedelta(hours=1)

    @classmethod
    def per_seconds(cls, limit: int, window_seconds: float) -> RateLimit:
        return cls(limit, timedelta(seconds=window_seconds))

    def check(self, now: datetime, recent: Recent, *, what: str, reason: str) -> None:
        """RESOURCE_EXHAUSTED when the window is full. `recent(since, limit)` returns the creation
        times after `since`, newest first, at most `limit`; it is not called when the check is off.
        The retry delay is when the oldest of those leaves the window."""
        if self.limit <= 0:
            return
        times = recent(now - self.window, self.limit)
        if len(times) < self.limit:
            return
        retry_after = max(1.0, (as_utc(times[self.limit - 1]) + self.window - now).total_seconds())
        raise errors.ResourceExhausted(
            f"at most {self.limit} {what} per {_duration(self.window)}; retry in {math.ceil(retry_after)} s",
            reason=reason,
            retry_after_seconds=retry_after,
        )


def _duration(window: timedelta) -> str:
    """`hour`, `2 hours`, `minute`, `90 s`: the window as the error message says it."""
    seconds = int(window.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} s"

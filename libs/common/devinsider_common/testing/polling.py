"""Waiting in tests for something asynchronous (a relay, a health change, another replica) to happen."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, every: float = 0.05) -> bool:
    """Whether `predicate` turned truthy within `timeout` seconds (polled every `every`, once more at the end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())

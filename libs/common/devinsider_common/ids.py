"""Resource ids: UUIDv7 (RFC 9562), so ids sort by creation time and keyset pages can use the id alone.

Within one process ids strictly increase, also when several are minted in one millisecond (RFC 9562
§6.2, method 3: the 74 bits after the time count up from the previous id instead of being drawn
anew), so "newest first" lists never swap two items created in the same millisecond. Ids of
different processes in one millisecond keep a random order, which no ordering promises more.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_COUNTER_BITS = 74  # rand_a (12 bits) and rand_b (62 bits)
_RAND_B_BITS = 62
_lock = threading.Lock()
_last: tuple[int, int] = (0, 0)  # (milliseconds, counter) of the last id of this process


def _pack(millis: int, counter: int) -> str:
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= (counter >> _RAND_B_BITS) << 64  # rand_a
    value |= 0x2 << 62  # RFC 4122 variant
    value |= counter & ((1 << _RAND_B_BITS) - 1)  # rand_b
    return str(uuid.UUID(int=value))


def new_id() -> str:
    global _last  # the process's last id: the next one in a millisecond counts up from it
    millis = time.time_ns() // 1_000_000
    counter = int.from_bytes(os.urandom(10), "big") >> (80 - _COUNTER_BITS)
    with _lock:
        last_millis, last_counter = _last
        if millis <= last_millis:  # the same millisecond, or the clock stepped back
            millis, counter = last_millis, last_counter + 1
            if counter >> _COUNTER_BITS:  # the counter ran out: borrow the next millisecond
                millis, counter = millis + 1, 0
        _last = (millis, counter)
    return _pack(millis, counter)

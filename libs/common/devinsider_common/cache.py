"""A small key/value cache with TTLs: Redis when REDIS_URL is set, in-process otherwise.

Keys are `<prefix>:cache:<entity>:<id>`. The cache is never the source of truth, so a Redis
outage must not fail a request: a read that cannot reach Redis is logged and treated as a miss,
and writes/deletes are logged and skipped. A skipped delete leaves a stale entry until its TTL,
which is why every entry has one. After an error Redis is skipped for `retry_after_seconds`, so
an outage costs one timeout per window rather than one per read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Protocol

import redis
import structlog

from devinsider_common import tracing
from devinsider_common.settings import ServiceSettings

log = structlog.get_logger("devinsider.cache")


class Cache(Protocol):
    def get(self, entity: str, key: str) -> bytes | None: ...

    def get_many(self, entity: str, keys: Sequence[str]) -> dict[str, bytes]:
        """The entries found among `keys` (misses left out)."""
        ...

    def set(self, entity: str, key: str, value: bytes | str, ttl_seconds: float) -> None: ...

    def delete(self, entity: str, key: str) -> None: ...


def _encode(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _decoded(value: object) -> bytes | None:
    # A client made with decode_responses=True hands back str.
    return value.encode() if isinstance(value, str) else value if isinstance(value, bytes) else None


class RedisCache:
    def __init__(self, client: redis.Redis, prefix: str, retry_after_seconds: float = 5.0) -> None:
        self._client = client
        self._prefix = prefix
        self._retry_after = retry_after_seconds
        self._skip_until = 0.0

    def key(self, entity: str, key: str) -> str:
        return f"{self._prefix}:cache:{entity}:{key}"

    def _usable(self) -> bool:
        return time.monotonic() >= self._skip_until

    def _failed(self, operation: str, error: redis.RedisError) -> None:
        self._skip_until = time.monotonic() + self._retry_after
        log.warning("cache_unavailable", operation=operation, error=repr(error))

    def get(self, entity: str, key: str) -> bytes | None:
        if not self._usable():
            return None
        try:
            value = self._client.get(self.key(entity, key))
        except redis.RedisError as error:
            self._failed("get", error)
            return None
        return _decoded(value)

    def get_many(self, entity: str, keys: Sequence[str]) -> dict[str, bytes]:
        """One MGET for all of `keys`."""
        if not keys or not self._usable():
            return {}
        try:
            values = self._client.mget([self.key(entity, k) for k in keys])
        except redis.RedisError as error:
            self._failed("get", error)
            return {}
        return {k: v for k, raw in zip(keys, values, strict=True) if (v := _decoded(raw)) is not None}

    def set(self, entity: str, key: str, value: bytes | str, ttl_seconds: float) -> None:
        if not self._usable():
            return
        try:
            self._client.set(self.key(entity, key), _encode(value), px=max(1, int(ttl_seconds * 1000)))
        except redis.RedisError as error:
            self._failed("set", error)

    def get_with_ttl(self, entity: str, key: str) -> tuple[bytes | None, float]:
        """The value and the seconds it has left, in one round trip; (None, 0) on a miss or an error."""
        if not self._usable():
            return None, 0.0
        try:
            pipeline = self._client.pipeline(transaction=False)
            pipeline.get(self.key(entity, key))
            pipeline.pttl(self.key(entity, key))
            value, left_ms = pipeline.execute()
        except redis.RedisError as error:
            self._failed("get", error)
            return None, 0.0
        if value is None or not isinstance(left_ms, int) or left_ms <= 0:
            return None, 0.0
        return (value.encode() if isinstance(value, str) else value), left_ms / 1000

    def delete(self, entity: str, key: str) -> None:
        # Attempted even while skipping reads: a successful delete is what keeps the cache fresh.
        try:
            self._client.delete(self.key(entity, key))
        except redis.RedisError as error:
            self._failed("delete", error)


class InMemoryCache:
    """Per-process cache (embedded runs and tests); entries expire on read, the oldest go first when full."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: dict[tuple[str, str], tuple[float, bytes]] = {}
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, entity: str, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get((entity, key))
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[(entity, key)]
                return None
            return entry[1]

    def get_many(self, entity: str, keys: Sequence[str]) -> dict[str, bytes]:
        return {k: v for k in keys if (v := self.get(entity, k)) is not None}

    def set(self, entity: str, key: str, value: bytes | str, ttl_seconds: float) -> None:
        with self._lock:
            self._entries.pop((entity, key), None)  # re-insert so dict order is insertion age
            while len(self._entries) >= self._max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[(entity, key)] = (time.monotonic() + ttl_seconds, _encode(value))

    def delete(self, entity: str, key: str) -> None:
        with self._lock:
            self._entries.pop((entity, key), None)


class NearCache:
    """A process-local copy in front of Redis, for answers read on every call (the access check): a hit
    costs no round trip. A copy lives only as long as its Redis entry had left, so an entry is never
    older than the TTL it was written with; but a delete reaches this process's copy only, the other
    processes keep theirs until it expires. So it serves entries whose TTL is the stated staleness bound,
    not entries that rely on a delete to stay fresh."""

    def __init__(self, shared: RedisCache, local: InMemoryCache | None = None) -> None:
        self._shared = shared
        self._local = local or InMemoryCache()

    def get(self, entity: str, key: str) -> bytes | None:
        value = self._local.get(entity, key)
        if value is None:
            value, left = self._shared.get_with_ttl(entity, key)
            if value is not None:
                self._local.set(entity, key, value, left)
        return value

    def get_many(self, entity: str, keys: Sequence[str]) -> dict[str, bytes]:
        # A copy needs its entry's TTL, read per key (`get_with_ttl`): a round trip per local miss.
        return {k: v for k in keys if (v := self.get(entity, k)) is not None}

    def set(self, entity: str, key: str, value: bytes | str, ttl_seconds: float) -> None:
        self._shared.set(entity, key, value, ttl_seconds)
        self._local.set(entity, key, value, ttl_seconds)

    def delete(self, entity: str, key: str) -> None:
        self._shared.delete(entity, key)
        self._local.delete(entity, key)


def near(cache: Cache) -> Cache:
    """`cache` with a process-local copy in front when it is Redis (see NearCache); itself otherwise."""
    return NearCache(cache) if isinstance(cache, RedisCache) else cache


def redis_client(url: str) -> redis.Redis:
    """A client with short timeouts: a hung Redis must cost milliseconds, not a request deadline."""
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30)
    tracing.instrument_redis(client)  # a span per command while tracing is on
    return client


def create_cache(settings: ServiceSettings) -> Cache:
    if settings.redis_url:
        return RedisCache(redis_client(settings.redis_url), settings.redis_key_prefix)
    return InMemoryCache()

"""Named locks across replicas (Redis) or threads (in-process), and PostgreSQL advisory locks.

Redis locks are for efficiency (one replica runs a job, one request rebuilds a cache entry):
they expire, so a paused holder can lose one. Correctness of money and state transitions comes
from PostgreSQL (constraints, `SELECT ... FOR UPDATE`, version columns, `advisory_xact_lock`).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import redis
import structlog
from redis.exceptions import LockError
from sqlalchemy import Connection, text

from devinsider_common import errors
from devinsider_common.cache import redis_client
from devinsider_common.settings import ServiceSettings

log = structlog.get_logger("devinsider.locks")


class LockFactory(Protocol):
    def lock(self, name: str, timeout_seconds: float, blocking_timeout: float = 0.0) -> AbstractContextManager[None]:
        """Hold `name` for the block (at most `timeout_seconds`); Conflict if not acquired in time."""
        ...


class RedisLockFactory:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    @contextmanager
    def lock(self, name: str, timeout_seconds: float, blocking_timeout: float = 0.0) -> Iterator[None]:
        # redis-py's Lock stores a random token and releases only if the token still matches.
        lock = self._client.lock(f"{self._prefix}:lock:{name}", timeout=timeout_seconds, thread_local=False)
        try:
            acquired = lock.acquire(blocking=blocking_timeout > 0, blocking_timeout=blocking_timeout or None)
        except redis.RedisError as error:
            raise errors.Unavailable(f"lock {name!r}: Redis is unreachable") from error
        if not acquired:
            raise errors.Conflict(f"lock {name!r} is held elsewhere", reason="LOCK_HELD")
        try:
            yield
        finally:
            try:
                lock.release()
            except (LockError, redis.RedisError) as error:  # expired and maybe taken over: say so
                log.warning("lock_release_failed", lock=name, error=repr(error))


class InProcessLockFactory:
    """Same contract inside one process (embedded runs): expiring, token-checked, thread-safe."""

    def __init__(self) -> None:
        self._holders: dict[str, tuple[str, float]] = {}
        self._condition = threading.Condition()

    def _free(self, name: str, now: float) -> bool:
        holder = self._holders.get(name)
        return holder is None or holder[1] <= now

    @contextmanager
    def lock(self, name: str, timeout_seconds: float, blocking_timeout: float = 0.0) -> Iterator[None]:
        token = uuid.uuid4().hex
        deadline = time.monotonic() + blocking_timeout
        with self._condition:
            while not self._free(name, now := time.monotonic()):
                holder_expiry = self._holders[name][1]
                if now >= deadline:
                    raise errors.Conflict(f"lock {name!r} is held elsewhere", reason="LOCK_HELD")
                self._condition.wait(min(deadline, holder_expiry) - now)
            self._holders[name] = (token, now + timeout_seconds)
        try:
            yield
        finally:
            with self._condition:
                holder = self._holders.get(name)
                if holder is not None and holder[0] == token:  # expired and retaken: not ours to drop
                    del self._holders[name]
                self._condition.notify_all()


def create_lock_factory(settings: ServiceSettings) -> LockFactory:
    if settings.redis_url:
        return RedisLockFactory(redis_client(settings.redis_url), settings.redis_key_prefix)
    return InProcessLockFactory()


def advisory_key(namespace: str, key: str) -> int:
    """A signed 64-bit key for pg_advisory_* from a namespace (e.g. the service) and a key."""
    digest = hashlib.blake2b(f"{namespace}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def advisory_xact_lock(connection: Connection, namespace: str, key: str) -> None:
    """Block until this transaction holds the advisory lock; released at commit/rollback.

    No-op on SQLite, whose single writer already serializes write transactions.
    """
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(namespace, key)})

"""Cache (Redis and in-process), named locks (Redis and in-process) and PostgreSQL advisory locks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import structlog.testing
from sqlalchemy import Engine, text

from devinsider.common.v1 import page_pb2
from devinsider.company.v1 import company_pb2
from devinsider_common import errors
from devinsider_common.cache import Cache, InMemoryCache, NearCache, RedisCache, create_cache, near, redis_client
from devinsider_common.jobs import Job, run_once_across_replicas
from devinsider_common.locks import (
    InProcessLockFactory,
    LockFactory,
    RedisLockFactory,
    advisory_key,
    advisory_xact_lock,
    create_lock_factory,
)
from devinsider_common.pages.remote import RemotePageAccess
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.settings import ServiceSettings


@pytest.fixture
def redis_conn(redis_prefix: tuple[str, str]) -> Iterator[redis.Redis]:
    client = redis_client(redis_prefix[0])
    yield client
    client.close()


@pytest.fixture(params=["redis", "near", "memory"])
def cache(request: pytest.FixtureRequest) -> Cache:
    if request.param == "memory":
        return InMemoryCache()
    shared = RedisCache(request.getfixturevalue("redis_conn"), request.getfixturevalue("redis_prefix")[1])
    return NearCache(shared) if request.param == "near" else shared


def test_cache_round_trip_and_ttl_expiry(cache: Cache) -> None:
    cache.set("user", "1", "élise", ttl_seconds=0.3)
    cache.set("user", "2", b"\x00raw", ttl_seconds=30)
    assert cache.get("user", "1") == "élise".encode()
    assert cache.get("user", "2") == b"\x00raw"
    assert cache.get("company", "1") is None  # entities are separate key spaces
    time.sleep(0.45)
    assert cache.get("user", "1") is None
    cache.delete("user", "2")
    assert cache.get("user", "2") is None


def test_get_many_returns_the_hits_only(cache: Cache) -> None:
    cache.set("page", "a", b"one", ttl_seconds=30)
    cache.set("page", "c", "three", ttl_seconds=30)
    cache.set("other", "b", b"elsewhere", ttl_seconds=30)
    assert cache.get_many("page", ["a", "b", "c", "a"]) == {"a": b"one", "c": b"three"}
    assert cache.get_many("page", []) == {}
    cache.delete("page", "a")
    assert cache.get_many("page", ["a", "c"]) == {"c": b"three"}


def test_redis_get_many_is_one_round_trip(
    redis_conn: redis.Redis, redis_prefix: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = RedisCache(redis_conn, redis_prefix[1])
    for key in "abc":
        shared.set("page", key, key, ttl_seconds=30)
    sent: list[object] = []
    execute: Any = redis_conn.execute_command

    def counted(*args: object, **options: object) -> object:
        sent.append(args[0])
        return execute(*args, **options)

    monkeypatch.setattr(redis_conn, "execute_command", counted)
    assert shared.get_many("page", ["a", "b", "c", "d"]) == {"a": b"a", "b": b"b", "c": b"c"}
    assert sent == ["MGET"]


def test_a_near_copy_saves_the_round_trip_and_lives_no_longer_than_its_redis_entry(
    redis_conn: redis.Redis, redis_prefix: tuple[str, str]
) -> None:
    shared = RedisCache(redis_conn, redis_prefix[1])
    cache = near(shared)
    assert isinstance(cache, NearCache) and near(InMemoryCache()).__class__ is InMemoryCache
    shared.set("access", "alice", "1", ttl_seconds=0.6)  # written by another process
    time.sleep(0.4)
    assert cache.get("access", "alice") == b"1"  # copied here with the 0.2 s its entry had left
    redis_conn.delete(shared.key("access", "alice"))
    assert cache.get("access", "alice") == b"1"  # served from this process, no round trip
    time.sleep(0.3)
    assert cache.get("access", "alice") is None  # expired with its Redis entry, not 0.6 s after the copy
    cache.set("access", "bob", "0", ttl_seconds=30)
    assert redis_conn.exists(shared.key("access", "bob")) == 1  # written through
    cache.delete("access", "bob")
    assert redis_conn.exists(shared.key("access", "bob")) == 0 and cache.get("access", "bob") is None


def test_redis_keys_are_namespaced_and_prefixes_isolate(redis_conn: redis.Redis, redis_prefix: tuple[str, str]) -> None:
    prefix = redis_prefix[1]
    first, second = RedisCache(redis_conn, f"{prefix}:a"), RedisCache(redis_conn, f"{prefix}:b")
    first.set("user", "1", "one", ttl_seconds=30)
    assert redis_conn.exists(f"{prefix}:a:cache:user:1") == 1
    assert 0 < redis_conn.pttl(f"{prefix}:a:cache:user:1") <= 30_000
    assert second.get("user", "1") is None
    second.delete("user", "1")
    assert first.get("user", "1") == b"one"


def test_a_redis_outage_reads_as_a_miss() -> None:
    down = RedisCache(redis_client("redis://127.0.0.1:1/0"), "x")  # nothing listens on port 1
    assert down.get("user", "1") is None
    assert down.get_many("user", ["1", "2"]) == {}
    down.set("user", "1", "v", ttl_seconds=1)
    down.delete("user", "1")
    assert down.get("user", "1") is None


def test_in_memory_cache_evicts_the_oldest_when_full() -> None:
    small = InMemoryCache(max_entries=2)
    for key in "abc":
        small.set("e", key, key, ttl_seconds=30)
    assert [small.get("e", key) for key in "abc"] == [None, b"b", b"c"]


@pytest.fixture(params=["redis", "memory"])
def locks(request: pytest.FixtureRequest) -> LockFactory:
    if request.param == "memory":
        return InProcessLockFactory()
    return RedisLockFactory(request.getfixturevalue("redis_conn"), request.getfixturevalue("redis_prefix")[1])


def test_a_held_lock_refuses_a_second_holder_until_released(locks: LockFactory) -> None:
    with locks.lock("job", timeout_seconds=10):
        with pytest.raises(errors.Conflict), locks.lock("job", timeout_seconds=10):
            pass
        with locks.lock("other", timeout_seconds=10):  # names are independent
            pass
    with locks.lock("job", timeout_seconds=10):
        pass


def test_a_lock_expires_after_its_timeout(locks: LockFactory) -> None:
    with locks.lock("job", timeout_seconds=0.3):
        time.sleep(0.45)
        with locks.lock("job", timeout_seconds=10):  # the stale holder lost it
            pass


def test_a_blocking_acquire_waits_for_the_release(locks: LockFactory) -> None:
    held = threading.Event()

    def holder() -> None:
        with locks.lock("job", timeout_seconds=10):
            held.set()
            time.sleep(0.3)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    started = time.monotonic()
    with locks.lock("job", timeout_seconds=10, blocking_timeout=5):
        assert time.monotonic() - started >= 0.2
    thread.join()


def test_redis_lock_keys_are_namespaced(redis_conn: redis.Redis, redis_prefix: tuple[str, str]) -> None:
    factory = RedisLockFactory(redis_conn, redis_prefix[1])
    with factory.lock("billing:renewals", timeout_seconds=5):
        assert redis_conn.exists(f"{redis_prefix[1]}:lock:billing:renewals") == 1
    assert redis_conn.exists(f"{redis_prefix[1]}:lock:billing:renewals") == 0


def test_factories_follow_redis_url(redis_prefix: tuple[str, str]) -> None:
    embedded = ServiceSettings(redis_url="")
    assert isinstance(create_cache(embedded), InMemoryCache)
    assert isinstance(create_lock_factory(embedded), InProcessLockFactory)
    shared = ServiceSettings(redis_url=redis_prefix[0], redis_key_prefix=redis_prefix[1])
    assert isinstance(create_cache(shared), RedisCache)
    assert isinstance(create_lock_factory(shared), RedisLockFactory)


def test_advisory_lock_serializes_two_transactions(pg_engine: Engine) -> None:
    order: list[str] = []
    first_holds = threading.Event()

    def first() -> None:
        with pg_engine.begin() as connection:
            advisory_xact_lock(connection, "billing", "account-1")
            first_holds.set()
            time.sleep(0.3)
            order.append("first commits")

    thread = threading.Thread(target=first)
    thread.start()
    first_holds.wait(5)
    with pg_engine.begin() as connection:
        busy = "SELECT pg_try_advisory_xact_lock(:key)"
        assert connection.execute(text(busy), {"key": advisory_key("billing", "account-1")}).scalar() is False
        advisory_xact_lock(connection, "billing", "account-2")  # another key is free
        advisory_xact_lock(connection, "billing", "account-1")  # waits for the first commit
        order.append("second holds")
    thread.join()
    assert order == ["first commits", "second holds"]
    assert advisory_key("billing", "account-1") != advisory_key("user", "account-1")


def test_a_job_whose_lock_store_is_down_skips_its_run_with_a_warning_not_a_trace() -> None:
    ran: list[int] = []

    def work() -> int:
        ran.append(1)
        return 1

    job = Job("probe-job", work, interval_seconds=60)
    down = RedisLockFactory(redis_client("redis://127.0.0.1:1/0"), "x")  # nothing listens on port 1
    with structlog.testing.capture_logs() as logs:
        assert run_once_across_replicas(job, down) is None
    assert ran == []
    (entry,) = [e for e in logs if e["event"] == "job.skipped"]
    assert entry["log_level"] == "warning" and "Redis is unreachable" in entry["reason"]
    assert "exc_info" not in entry and not any(e["event"] == "job.failed" for e in logs)


def test_page_access_answers_are_read_from_a_near_copy(redis_conn: redis.Redis, redis_prefix: tuple[str, str]) -> None:
    shared = RedisCache(redis_conn, redis_prefix[1])
    asked: list[str] = []

    def check(request: company_pb2.CheckPageAccessRequest) -> company_pb2.CheckPageAccessResponse:
        asked.append(request.subject)
        return company_pb2.CheckPageAccessResponse(allowed=True, role=page_pb2.PAGE_ROLE_OWNER, cache_ttl_seconds=30)

    access = RemotePageAccess(check, company_pb2.CheckPageAccessRequest, shared, ttl_seconds=30)
    assert access.role("companies/c1", "alice", PagePermission.VIEW_PRIVATE) == (True, PageRole.OWNER)
    for key in redis_conn.scan_iter(match=f"{redis_prefix[1]}*page_access*"):
        redis_conn.delete(key)  # Redis no longer holds it: only the process's copy can answer
    assert access.role("companies/c1", "alice", PagePermission.VIEW_PRIVATE) == (True, PageRole.OWNER)
    assert asked == ["alice"]

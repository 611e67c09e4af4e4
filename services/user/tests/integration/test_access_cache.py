"""The access guard's answers are shared by the replicas in Redis, and a blacklisting is enforced
within the cache TTL (the rule and the cache in-process: tests/unit/test_blacklist.py)."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import redis

from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import TokenFactory
from user_service.bootstrap import start

from ..conftest import bearer, make_settings


def test_blacklist_is_enforced_within_the_cache_ttl_shared_in_redis(
    workdir: Path, database: tuple[str, str], redis_prefix: tuple[str, str], token: TokenFactory
) -> None:
    redis_url, prefix = redis_prefix
    settings = make_settings(
        workdir, *database, redis_url=redis_url, redis_key_prefix=prefix, access_cache_ttl_seconds=0.5
    )
    service = start(settings)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)
            victim = bearer(token("kc-late", email="late@bad.example"))
            stub.GetMe(user_pb2.GetMeRequest(), metadata=victim)  # allowed, and the answer is cached
            assert redis.Redis.from_url(redis_url).exists(f"{prefix}:cache:access:kc-late|late@bad.example")
            entry = user_pb2.BlacklistEntry(kind=user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN, value="bad.example")
            stub.CreateBlacklistEntry(
                user_pb2.CreateBlacklistEntryRequest(blacklist_entry=entry),
                metadata=bearer(token("a", roles=("admin",))),
            )
            stub.GetMe(user_pb2.GetMeRequest(), metadata=victim)  # still within the bound: cached answer
            time.sleep(0.6)
            assert failure(lambda: stub.GetMe(user_pb2.GetMeRequest(), metadata=victim)) == Failure(
                grpc.StatusCode.PERMISSION_DENIED, "BLACKLISTED_DOMAIN"
            )
    finally:
        service.stop(grace=0)

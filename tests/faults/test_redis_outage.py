"""Redis "stopped": what uses it falls back or fails cleanly, and nothing is corrupted.

"Stopped" means the services' Redis proxy is cut (new connections refused, pooled ones killed);
the real Redis, shared with other tests, keeps running.

What uses Redis, and the behaviour under test (devinsider_common/cache.py, locks.py, jobs.py):

- The cache (platform access answers, page access answers, billing's HasUnlocked/blocked-pair
  answers, company's unlock answers) is never the source of truth: a read that cannot reach Redis
  is a miss, writes and deletes are skipped, and Redis is left alone for 5 s after an error. So
  every call still succeeds, asking the owning service instead of the cache (documented fallback).
- Named locks (`RedisLockFactory`) fail with `errors.Unavailable` (gRPC UNAVAILABLE, ErrorInfo
  reason UNAVAILABLE; 503 through Envoy) rather than pretending to hold the lock. Their only users
  today are the scheduled jobs, which skip the run (`run_once_across_replicas` returns None) and
  run again at the next interval once Redis is back.
- Money does not depend on Redis: unlocks serialise on the page's balance row in PostgreSQL and are
  idempotent by request id and target, so concurrent retries of one unlock while Redis is down, and
  again after it returns, spend the credit exactly once.
- Rate limits are not kept in Redis: the only one is Envoy's local token bucket on the webhooks.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
import redis

from devinsider_common import errors
from devinsider_common.grpc.status import to_status_proto
from devinsider_common.jobs import run_once_across_replicas
from devinsider_common.locks import create_lock_factory
from devinsider_common.testing import infra

from ..e2e.journeys import unlocked_view
from ..e2e.suite_stack import SuiteStack, create_company, unique
from .support import FaultStack, eventually


def _ok(response: Any) -> dict[str, Any]:
    assert response.status == 200, (response.status, response.body)
    return dict(response.json())


def _balance(suite: SuiteStack, page: str, token: str) -> int:
    return int(_ok(suite.call("GET", f"/v1/{page}/creditBalance", token=token)).get("balance", "0"))


def _redis_keys(prefix: str) -> list[bytes]:
    client = redis.Redis.from_url(infra.REDIS_URL)
    try:
        return list(client.scan_iter(match=f"{prefix}:*"))
    finally:
        client.close()


def test_calls_fall_back_and_unlocks_spend_once_while_redis_is_down(fault_stack: FaultStack) -> None:
    suite, proxy = fault_stack.suite, fault_stack.proxies.redis
    owner = suite.token(unique("isv-redis"))
    company = create_company(suite, owner, displayName="Cache Free", contact={"email": "hello@cachefree.example"})[
        "name"
    ]
    investor_owner = suite.token(unique("inv-redis"), roles=("investor",))
    investor_page = {
        "displayName": "Redisless Capital",
        "category": "INVESTOR_CATEGORY_INSTITUTIONAL",
        "investorType": "INVESTOR_TYPE_VENTURE_CAPITAL",
    }
    investor = _ok(suite.call("POST", "/v1/investors", investor_page, investor_owner))["name"]
    admin = suite.token(unique("admin"), roles=("admin",))
    grant = {"kind": "LEDGER_ENTRY_KIND_GRANT", "credits": "3"}
    _ok(suite.call("POST", f"/v1/{investor}/ledgerEntries?requestId={uuid.uuid4().hex}", grant, admin))
    assert _balance(suite, investor, investor_owner) == 3
    eventually(lambda: _redis_keys(suite.redis_prefix), "cache entries in Redis before the outage")

    proxy.cut()
    statuses: list[int] = []

    # Reads and writes that go through the access caches still work (misses ask the owning service).
    for _ in range(3):
        view = suite.call("GET", f"/v1/{company}", token=investor_owner)
        statuses.append(view.status)
        assert view.status == 200 and "contact" not in view.json(), view.body
    other = suite.call("POST", "/v1/companies", {"displayName": "Written Without Redis"}, suite.token(unique("isv")))
    statuses.append(other.status)
    assert other.status == 200, other.body

    # Eight concurrent retries of one unlock (one request id): one unlock, one credit spent.
    unlock_path = f"/v1/{investor}/unlocks?requestId={uuid.uuid4().hex}"
    spend = {"target": {"kind": "PAGE_KIND_COMPANY", "name": company}}
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: suite.call("POST", unlock_path, spend, investor_owner), range(8)))
    statuses += [a.status for a in answers]
    assert [a.status for a in answers] == [200] * 8, [a.body for a in answers]
    unlock = answers[0].json()["name"]
    assert {a.json()["name"] for a in answers} == {unlock}
    assert _balance(suite, investor, investor_owner) == 2
    # The unlock reaches company's projection, and its membership question passes the cache: the investor
    # sees the contacts.
    seen = unlocked_view(suite, company, investor_owner)
    assert seen["contact"]["email"] == "hello@cachefree.example", seen

    # Locks say UNAVAILABLE instead of pretending; the scheduled job skips its run.
    locks = create_lock_factory(suite.company.settings)
    with pytest.raises(errors.Unavailable) as refused, locks.lock("faults:probe", timeout_seconds=5):
        pass
    status = to_status_proto(refused.value, "company")
    assert status.code == grpc.StatusCode.UNAVAILABLE.value[0] and "Redis" in status.message
    assert run_once_across_replicas(suite.company.jobs[0], locks) is None
    assert 500 not in statuses and set(statuses) == {200}

    proxy.restore()
    # The same unlock again (same request id, then a new one for the same target): still one spend.
    again = _ok(suite.call("POST", unlock_path, spend, investor_owner))
    fresh = _ok(suite.call("POST", f"/v1/{investor}/unlocks?requestId={uuid.uuid4().hex}", spend, investor_owner))
    assert again["name"] == fresh["name"] == unlock
    assert _balance(suite, investor, investor_owner) == 2
    ledger = _ok(suite.call("GET", f"/v1/{investor}/ledgerEntries", token=investor_owner))["ledgerEntries"]
    assert [(e["kind"], e["credits"]) for e in ledger] == [("LEDGER_ENTRY_KIND_SPEND", "-1"), grant_pair(grant)]
    assert len(_ok(suite.call("GET", f"/v1/{investor}/unlocks", token=investor_owner))["unlocks"]) == 1

    # Redis is used again: locks are taken, the job runs, the caches write entries under the prefix.
    with locks.lock("faults:probe", timeout_seconds=5):
        pass
    assert run_once_across_replicas(suite.company.jobs[0], locks) is not None

    def cache_written() -> bool:
        _ok(suite.call("GET", f"/v1/{company}", token=owner))
        return any(b":cache:" in key for key in _redis_keys(suite.redis_prefix))

    eventually(cache_written, "cache entries written to Redis again")


def grant_pair(grant: dict[str, str]) -> tuple[str, str]:
    return grant["kind"], grant["credits"]

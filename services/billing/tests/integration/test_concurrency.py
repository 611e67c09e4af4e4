"""50 parallel unlocks with a balance of 10 spend exactly 10 credits, never more.

The race is the database's: the use cases on the SQL unit of work run in 50 threads at once on
PostgreSQL and on SQLite (the embedded default), several rounds, each on fresh pages. Once more
through the whole server on PostgreSQL, with the page-access and block answers cached in Redis.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis

from billing_service.bootstrap import MIGRATIONS, BillingService, build_app, start
from billing_service.domain.ledger import LedgerEntryKind
from billing_service.service_layer.app import BillingApp
from billing_service.service_layer.unit_of_work import SqlBillingUnitOfWork
from billing_service.settings import BillingSettings
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.failures import failure_of
from devinsider_common.testing.neighbours import FakeBlockList, FakePageAccess, Neighbours
from devinsider_common.testing.services import bearer
from devinsider_common.testing.tokens import TokenFactory, principal

from ..conftest import make_settings
from ..fakes import FakePageStates, FakeProvider
from ..helpers import balance, grant, unlock

PARALLEL = 50
CREDITS = 10
STAFF = principal("kc-staff", roles=("admin",))


def in_parallel(calls: Sequence[Callable[[], Any]]) -> tuple[list[Any], Counter[str]]:
    """Run `calls` at once (a barrier releases them together): what they returned, and how many
    were refused for each `CODE:REASON`."""
    barrier = threading.Barrier(len(calls))
    done: list[Any] = []
    refused: Counter[str] = Counter()
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            result = call()
        except Exception as error:  # every refusal is counted and compared
            how = failure_of(error)
            with lock:
                refused[f"{how.code.name}:{how.reason}"] += 1
            return
        with lock:
            done.append(result)

    with ThreadPoolExecutor(len(calls)) as pool:
        list(pool.map(run, calls))
    return done, refused


@pytest.fixture
def app(each_database: tuple[str, str]) -> Iterator[tuple[BillingApp, FakePageAccess, int]]:
    """(the use cases on the SQL unit of work, their page access, rounds to run)."""
    url, schema = each_database
    engine = create_service_engine(url, schema)
    migrations.upgrade(engine, schema, MIGRATIONS)
    access = FakePageAccess()
    uses = build_app(
        BillingSettings(),
        partial(SqlBillingUnitOfWork, engine),
        FakeClock(),
        access,
        FakeBlockList(),
        FakePageStates(),
        FakeProvider(),
    )
    yield uses, access, 3 if engine.dialect.name == "postgresql" else 2
    engine.dispose()


@pytest.mark.slow
def test_parallel_unlocks_never_spend_more_than_the_balance(app: tuple[BillingApp, FakePageAccess, int]) -> None:
    uses, access, rounds = app

    def page(name: str) -> PageName:
        spender = PageName(PageKind.PROGRAM, name)
        access.add_member(spender, "kc-spender", PageRole.OWNER)
        uses.ledger.create(STAFF, spender, LedgerEntryKind.GRANT, CREDITS, "", None, f"grant-{name}")
        return spender

    def buy(spender: PageName, target: str, request_id: str) -> Any:
        return uses.unlocks.create(caller, spender, PageName(PageKind.COMPANY, target), request_id)

    def spent(spender: PageName) -> int:
        entries, _ = uses.ledger.list_ledger_entries(STAFF, spender, 200, "", LedgerEntryKind.SPEND)
        return -sum(e.credits for e in entries)

    caller = principal("kc-spender", roles=("program",))
    for round_ in range(rounds):
        # Different companies: exactly CREDITS of them get unlocked, the rest are refused.
        spender = page(f"different-{round_}")
        done, refused = in_parallel([partial(buy, spender, f"c{round_}-{i}", f"d{i}") for i in range(PARALLEL)])
        assert len(done) == CREDITS, refused
        assert refused == Counter({"FAILED_PRECONDITION:INSUFFICIENT_CREDITS": PARALLEL - CREDITS})
        assert len({u.target for u in done}) == CREDITS
        assert uses.ledger.balance(STAFF, spender).balance == 0 and spent(spender) == CREDITS

        # The same company: one unlock, one credit, every call answered with it.
        spender = page(f"same-{round_}")
        done, refused = in_parallel([partial(buy, spender, f"same-{round_}", f"s{i}") for i in range(PARALLEL)])
        assert not refused and len({u.id for u in done}) == 1 and len(done) == PARALLEL
        assert uses.ledger.balance(STAFF, spender).balance == CREDITS - 1 and spent(spender) == 1

        # Mixed, with retried request ids: 5 companies x 10 calls, each id sent twice.
        spender = page(f"mixed-{round_}")
        calls = [partial(buy, spender, f"m{round_}-{i % 5}", f"m{i // 2}") for i in range(PARALLEL)]
        done, _ = in_parallel(calls)
        assert len({u.target for u in done}) == 5
        assert uses.ledger.balance(STAFF, spender).balance == CREDITS - 5 and spent(spender) == 5


@pytest.fixture
def served(
    tmp_path: Path, pg_schema: tuple[str, str], redis_prefix: tuple[str, str], neighbours: Neighbours
) -> Iterator[BillingService]:
    redis_url, prefix = redis_prefix
    settings = make_settings(
        tmp_path,
        *pg_schema,
        neighbours.target,
        redis_url=redis_url,
        redis_key_prefix=prefix,
        remote_cache_ttl_seconds=30.0,
        max_workers=PARALLEL,
    )
    service = start(settings, clock=FakeClock())
    yield service
    service.stop(grace=0)


@pytest.mark.slow
def test_parallel_unlocks_through_the_server_with_answers_cached_in_redis(
    served: BillingService, neighbours: Neighbours, tokens: TokenFactory, redis_prefix: tuple[str, str]
) -> None:
    admin, auth = tokens("kc-staff", roles=("admin",)), tokens("kc-spender", roles=("program",))
    with grpc.insecure_channel(f"127.0.0.1:{served.port}") as channel:
        stub = billing_pb2_grpc.BillingServiceStub(channel)
        for round_ in range(2):
            page = f"programs/served-{round_}"
            neighbours.add_member(page, "kc-spender", PageRole.OWNER)
            grant(stub, admin, page, CREDITS)
            calls = [
                partial(unlock, stub, auth, f"companies/{round_}-{i % 20}", f"r{i}", page) for i in range(PARALLEL)
            ]
            done, refused = in_parallel(calls)
            assert len({u.target.name for u in done}) == CREDITS
            assert set(refused) == {"FAILED_PRECONDITION:INSUFFICIENT_CREDITS"}
            assert balance(stub, auth, page) == 0
            spends = stub.ListLedgerEntries(
                billing_pb2.ListLedgerEntriesRequest(
                    parent=page, kind=billing_pb2.LEDGER_ENTRY_KIND_SPEND, page_size=200
                ),
                metadata=bearer(auth),
            )
            assert len(spends.ledger_entries) == CREDITS
    redis_url, prefix = redis_prefix
    client = redis.Redis.from_url(redis_url)
    assert any(b"page_access" in key for key in client.scan_iter(match=f"{prefix}*"))  # answers kept in Redis
    client.close()

"""50 parallel unlocks with a balance of 10 spend exactly 10 credits, never more.

Run against real PostgreSQL with the page-access and block answers cached in real Redis (and
on SQLite, the embedded default), many rounds in a loop, each on fresh pages.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import grpc
import pytest

from billing_service.bootstrap import BillingService, start
from devinsider.billing.v1 import billing_pb2, billing_pb2_grpc
from devinsider_common.grpc.status import error_info, from_rpc_error
from devinsider_common.pages.roles import PageRole

from ..conftest import Clock, TokenFactory, bearer, make_settings
from ..helpers import balance, grant, unlock
from ..neighbours import Neighbours

PARALLEL = 50
CREDITS = 10


@pytest.fixture
def concurrent_service(
    request: pytest.FixtureRequest, tmp_path: Path, neighbours: Neighbours
) -> Iterator[tuple[BillingService, int]]:
    """(service, rounds): PostgreSQL + Redis, or SQLite with the in-process cache."""
    if request.param == "postgres+redis":
        url, schema = request.getfixturevalue("pg_schema")
        redis_url, prefix = request.getfixturevalue("redis_prefix")
        settings = make_settings(
            tmp_path,
            url,
            schema,
            neighbours.target,
            redis_url=redis_url,
            redis_key_prefix=prefix,
            remote_cache_ttl_seconds=30.0,
            max_workers=PARALLEL,
        )
        rounds = 20
    else:
        settings = make_settings(
            tmp_path,
            f"sqlite+pysqlite:///{tmp_path / 'b.sqlite3'}",
            "billing",
            neighbours.target,
            remote_cache_ttl_seconds=30.0,
            max_workers=PARALLEL,
        )
        rounds = 5
    service = start(settings, clock=Clock())
    yield service, rounds
    service.stop(grace=0)


def _in_parallel(calls: Sequence[Callable[[], billing_pb2.Unlock]]) -> tuple[list[billing_pb2.Unlock], Counter[str]]:
    barrier = threading.Barrier(len(calls))
    done: list[billing_pb2.Unlock] = []
    refused: Counter[str] = Counter()
    lock = threading.Lock()

    def run(call: Callable[[], billing_pb2.Unlock]) -> None:
        barrier.wait()
        try:
            result = call()
        except grpc.RpcError as error:
            status = from_rpc_error(error)
            info = error_info(status) if status else None
            with lock:
                refused[f"{error.code().name}:{info.reason if info else error.details()}"] += 1
            return
        with lock:
            done.append(result)

    with ThreadPoolExecutor(len(calls)) as pool:
        list(pool.map(run, calls))
    return done, refused


def _spent(stub: billing_pb2_grpc.BillingServiceStub, auth: str, page: str) -> int:
    entries = stub.ListLedgerEntries(
        billing_pb2.ListLedgerEntriesRequest(parent=page, kind=billing_pb2.LEDGER_ENTRY_KIND_SPEND, page_size=200),
        metadata=bearer(auth),
    )
    return -sum(e.credits for e in entries.ledger_entries)


@pytest.mark.slow
@pytest.mark.parametrize("concurrent_service", ["postgres+redis", "sqlite"], indirect=True)
def test_parallel_unlocks_never_spend_more_than_the_balance(
    concurrent_service: tuple[BillingService, int], neighbours: Neighbours, token: TokenFactory
) -> None:
    service, rounds = concurrent_service
    admin = token("kc-staff", roles=("admin",))
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        stub = billing_pb2_grpc.BillingServiceStub(channel)
        for round_ in range(rounds):
            spender = f"kc-spender-{round_}"
            auth = token(spender, roles=("program",))

            # Different companies: exactly CREDITS of them get unlocked, the rest are refused.
            page = f"programs/different-{round_}"
            neighbours.add_member(page, spender, PageRole.OWNER)
            grant(stub, admin, page, CREDITS)
            calls = [
                partial(unlock, stub, auth, f"companies/c{round_}-{i}", f"d{round_}-{i}", page) for i in range(PARALLEL)
            ]
            done, refused = _in_parallel(calls)
            assert len(done) == CREDITS, refused
            assert refused == Counter({"FAILED_PRECONDITION:INSUFFICIENT_CREDITS": PARALLEL - CREDITS})
            assert len({u.target.name for u in done}) == CREDITS
            assert balance(stub, auth, page) == 0
            assert _spent(stub, auth, page) == CREDITS

            # The same company: one unlock, one credit, every call answered with it.
            page = f"programs/same-{round_}"
            neighbours.add_member(page, spender, PageRole.OWNER)
            grant(stub, admin, page, CREDITS)
            calls = [
                partial(unlock, stub, auth, f"companies/same-{round_}", f"s{round_}-{i}", page) for i in range(PARALLEL)
            ]
            done, refused = _in_parallel(calls)
            assert not refused and len(done) == PARALLEL
            assert len({u.name for u in done}) == 1
            assert balance(stub, auth, page) == CREDITS - 1
            assert _spent(stub, auth, page) == 1

            # Mixed, with retried request ids: 5 companies x 10 calls, each id sent twice.
            page = f"programs/mixed-{round_}"
            neighbours.add_member(page, spender, PageRole.OWNER)
            grant(stub, admin, page, CREDITS)
            calls = [
                partial(unlock, stub, auth, f"companies/m{round_}-{i % 5}", f"m{round_}-{i // 2}", page)
                for i in range(PARALLEL)
            ]
            done, refused = _in_parallel(calls)
            assert len({u.target.name for u in done}) == 5
            assert balance(stub, auth, page) == CREDITS - 5
            assert _spent(stub, auth, page) == 5

"""Database round trips per RPC, counted on the wire (devinsider_common/testing/pgcount.py), in a pass of its own: the
services run with their DATABASE_URL through one counting proxy each (the proxy costs CPU, so the
throughput passes connect directly) and their periodic work (outbox relay, health probe, index poll,
jobs) slowed down, so that what crosses a proxy during a target's calls is those calls' work. Each
target is called one call after another over direct gRPC: warm-up calls first (caches, pools), then
`calls` counted ones; a round trip per call is the delta over them divided by `calls`, minus what the
idle services did in the same time (measured once before, normally nothing)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from bench.calls import Call
from bench.suite.probe import Prober
from bench.suite.targets import Check
from devinsider_common.testing import infra
from devinsider_common.testing.pgcount import Counts, PgCountingProxy

# Periodic work slowed down for the counting pass (seconds); the settings of devinsider_common and the
# services. A name a service does not know is ignored by it.
QUIET = {
    "RELAY_INTERVAL_SECONDS": "3600",
    "HEALTH_CHECK_INTERVAL_SECONDS": "3600",
    "INDEX_POLL_INTERVAL_SECONDS": "3600",
    "ANNOUNCEMENT_DRAIN_INTERVAL_SECONDS": "3600",
    "INVITATION_EXPIRY_INTERVAL_SECONDS": "3600",
    "BILLING_JOB_INTERVAL_SECONDS": "3600",
}
SETTLE_SECONDS = 30.0  # at most, for the services to go quiet (events of the throughput passes)


@dataclass(frozen=True)
class Sequence:
    """A target as the counting pass calls it: `draw(i)` is its i-th call (the same one for a read)."""

    name: str
    draw: Callable[[int], Call | None]
    check: Check


@dataclass(frozen=True)
class RoundTrips:
    per_call: float  # round trips (waits for PostgreSQL) per RPC, every service together
    by_service: dict[str, float]
    statements_per_call: float  # 'Q' + 'S' messages: more than round trips when pipelined
    connections: int  # opened during the counted calls (0 when pooled)
    calls: int
    statements: dict[str, float]  # "service: SQL" -> runs per call, most first


@contextmanager
def counting_proxies(services: list[str]) -> Iterator[dict[str, PgCountingProxy]]:
    """A started proxy in front of PostgreSQL per service."""
    url = make_url(infra.POSTGRES_URL)
    with ExitStack() as stack:
        proxies = {}
        for name in services:
            proxy = PgCountingProxy(url.host or "127.0.0.1", url.port or 5432).start()
            stack.callback(proxy.stop)
            proxies[name] = proxy
        yield proxies


def proxied_urls(proxies: dict[str, PgCountingProxy]) -> dict[str, str]:
    """Each service's DATABASE_URL through its proxy."""
    url = make_url(infra.POSTGRES_URL)
    return {name: url.set(host="127.0.0.1", port=proxy.port).render_as_string(False) for name, proxy in proxies.items()}


def _snapshot(proxies: dict[str, PgCountingProxy]) -> dict[str, Counts]:
    return {name: proxy.counts() for name, proxy in proxies.items()}


def _delta(after: dict[str, Counts], before: dict[str, Counts]) -> dict[str, Counts]:
    return {name: after[name] - before[name] for name in after}


def idle_rate(proxies: dict[str, PgCountingProxy], window: float = 1.0) -> dict[str, float]:
    """Round trips per second of the idle services, after waiting (up to SETTLE_SECONDS) for a quiet
    window: the throughput passes' events may still be on their way."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        before = _snapshot(proxies)
        time.sleep(window)
        delta = _delta(_snapshot(proxies), before)
        if all(c.round_trips == 0 for c in delta.values()) or time.monotonic() > deadline:
            return {name: c.round_trips / window for name, c in delta.items()}


def count(
    sequence: Sequence,
    proxies: dict[str, PgCountingProxy],
    prober: Prober,
    grpc_target: str,
    *,
    calls: int,
    warm: int,
    idle: dict[str, float],
) -> RoundTrips:
    """`warm` then `calls` calls of `sequence` one after another (each answer checked)."""
    for i in range(warm):
        _send(sequence, i, prober, grpc_target)
    before, began = _snapshot(proxies), time.monotonic()
    ran_before = {name: proxy.statements() for name, proxy in proxies.items()}
    for i in range(warm, warm + calls):
        _send(sequence, i, prober, grpc_target)
    delta, elapsed = _delta(_snapshot(proxies), before), time.monotonic() - began
    ran = Counter(
        {
            f"{name}: {text}": n
            for name, proxy in proxies.items()
            for text, n in (proxy.statements() - ran_before[name]).items()
        }
    )
    by_service = {
        name: round((c.round_trips - idle[name] * elapsed) / calls, 2)
        for name, c in delta.items()
        if c.round_trips or c.syncs
    }
    return RoundTrips(
        per_call=round(sum(by_service.values()), 2),
        by_service=by_service,
        statements_per_call=round(sum(c.syncs for c in delta.values()) / calls, 2),
        connections=sum(c.connections for c in delta.values()),
        calls=calls,
        statements={text: round(n / calls, 2) for text, n in ran.most_common()},
    )


def _send(sequence: Sequence, i: int, prober: Prober, grpc_target: str) -> None:
    call = sequence.draw(i)
    if call is None:
        raise RuntimeError(f"{sequence.name}: no distinct target left for the counting pass (raise --targets)")
    prober.grpc(grpc_target, call, sequence.check)

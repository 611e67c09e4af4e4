"""Throughput and latency of one target over one transport: reads with h2load (checked with a sample
call before and after), writes with the closed-loop driver."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.calls import Call
from bench.common import H2Load
from bench.load import driver
from bench.load.seed import Page
from bench.stats import Result, summarise
from bench.suite.probe import ProbeError, Prober
from bench.suite.report import DIRECT, Row
from bench.suite.targets import Check, Write


@dataclass(frozen=True)
class Endpoints:
    """Where a target's service answers: gRPC `host:port` (direct) and the edge's base URL and port."""

    grpc_target: str
    edge_url: str
    edge_port: int


def _failed(name: str) -> Result:
    return Result(name, 0, 0, 0.0, float("nan"), float("nan"))


def read(
    h2: H2Load,
    work: Path,
    prober: Prober,
    name: str,
    service: str,
    call: Call,
    check: Check,
    at: Endpoints,
    transport: str,
) -> Row:
    """h2load on `call`; the sample call before and after it must succeed and pass `check`."""
    token = {"authorization": f"Bearer {call.token}"} if call.token else {}

    def probe() -> None:
        if transport == DIRECT:
            prober.grpc(at.grpc_target, call, check)
        else:
            prober.rest(at.edge_url, call, check)

    try:
        probe()
    except ProbeError as error:
        return Row(name, transport, "h2load", service, _failed(name), {f"sample call: {error}": 1})
    if transport == DIRECT:
        headers = {"content-type": "application/grpc", "te": "trailers", **token}
        result = h2.run(
            work, f"{name} {transport}", f"http://{at.grpc_target}{call.grpc_method}", headers, call.grpc_frame()
        )
    else:
        result = h2.run(work, f"{name} {transport}", at.edge_url + call.path, token)
    errors = {"non-200 responses": result.failed} if result.failed else {}
    try:
        probe()
    except ProbeError as error:
        errors[f"sample call after the load: {error}"] = 1
    return Row(name, transport, "h2load", service, result, errors)


def drawer(write: Write, actors: list[Page]) -> Callable[[int], Call | None]:
    """Worker w's next request of `write`, as the page actors[w]."""
    sent = [0] * len(actors)

    def draw(worker: int) -> Call | None:
        i, sent[worker] = sent[worker], sent[worker] + 1
        return write.build(actors[worker], worker, i)

    return draw


def write(
    name: str,
    service: str,
    draw: Callable[[int], Call | None],
    full_service: str,
    at: Endpoints,
    transport: str,
    *,
    workers: int,
    duration: float,
    warmup: float,
) -> Row:
    """The driver's closed loop of `draw`'s requests (every status other than OK is an error)."""
    if transport == DIRECT:
        tally = driver.run_grpc({full_service: at.grpc_target}, workers, duration, warmup, draw)
    else:
        tally = driver.run_rest("127.0.0.1", at.edge_port, workers, duration, warmup, draw)
    result = summarise(name, tally.all_latencies(), tally.failed, tally.seconds)
    return Row(name, transport, "driver", service, result, dict(tally.errors), tally.exhausted, dict(tally.samples))

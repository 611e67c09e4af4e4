"""Suite bench (`make bench` = `python -m bench.suite`, never a test): what users meet, on the whole suite
(every service as a process on PostgreSQL, Redis and RabbitMQ, behind one Envoy), seeded through the edge.

- Hot reads (GetCompany as owner, stranger and unlocker; ListCompanies filtered; ListCompanyMatches;
  GetMe; GetCreditBalance): h2load, direct gRPC and REST through Envoy, each checked with a real client
  before and after its load.
- Writes (UpdateCompany, CreateUnlock, CreateFavorite), every request different: the closed-loop driver.
- The echo ceiling (a bare grpcio echo, direct and through its own Envoy) with both tools, same run.
- DB round trips per RPC: counted on the wire in a separate pass (bench/suite/counting.py).

A markdown table on stdout, every figure as JSON under var/bench/suite-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.calls import ECHO, Call, echo_call
from bench.common import (
    ROOT,
    SUITE_DESCRIPTORS,
    EchoCeiling,
    H2Load,
    core_split,
    echo_ceiling,
    h2load,
    pin,
    start_edge,
    workdir,
)
from bench.load.suite import SERVICES, Storage, Suite, start_services, suite_storage
from bench.suite import counting, measure, profile
from bench.suite.counting import QUIET, Sequence
from bench.suite.measure import Endpoints
from bench.suite.probe import Prober
from bench.suite.report import DIRECT, ECHO_NAME, ENVOY, Row, add_ratios, goals, markdown
from bench.suite.targets import Read, Write, reads, writes
from bench.suite.world import World, build
from devinsider_gateway.testing import envoy

ISSUER = "http://localhost/devinsider-bench-suite"
TRANSPORTS = (DIRECT, ENVOY)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds measured per target")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before each measurement")
    parser.add_argument("--connections", type=int, default=16, help="h2load connections, driver workers")
    parser.add_argument(
        "--only", default="", help="comma-separated services, operations or targets (company, GetCompany, ...)"
    )
    parser.add_argument("--workers", type=int, help="WORKERS=N for every service (default: the services' own)")
    parser.add_argument("--targets", type=int, default=400, help="distinct pages to unlock and favorite per worker")
    parser.add_argument("--count-calls", type=int, default=50, help="calls counted per target (round trips)")
    # Warm: every pooled connection has run the statements past psycopg's prepare threshold (a statement's 6th
    # run on a connection prepares it: one more round trip), and the pool hands connections out in turn.
    parser.add_argument("--count-warm", type=int, default=100, help="calls before the counted ones")
    parser.add_argument("--envoy-concurrency", type=int, default=1, help="Envoy worker threads")
    parser.add_argument(
        "--pin", action=argparse.BooleanOptionalAction, default=True, help="services and load on separate cores"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds per target")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy on the service of each read under its direct load"
    )
    parser.add_argument(
        "--upstream-max-streams",
        type=int,
        help="the edges' HTTP/2 streams per upstream connection (default: the gateway's; 0: one connection)",
    )
    parser.add_argument("--out", type=Path, help="the JSON report (default var/bench/suite-<time>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.connections = min(args.duration, 1.0), 0.5, min(args.connections, 4)
        args.targets, args.count_calls, args.count_warm = min(args.targets, 40), 5, 2
    return args


def _selected(name: str, service: str, only: str) -> bool:
    wanted = {s.strip().lower() for s in only.split(",") if s.strip()}
    return not wanted or bool({service, name.lower(), name.split(" (")[0].lower()} & wanted)


def _placement(service_cores: Iterable[int], load_cores: Iterable[int]) -> str:
    if not service_cores:
        return f"No pinning: every process shares the {os.cpu_count()} cores"
    return (
        f"Services and the echo backend on cores {sorted(service_cores)}; "
        f"h2load, Envoy and the driver on {sorted(load_cores)}"
    )


def _service_env(args: argparse.Namespace) -> dict[str, str]:
    # The filtered ListCompanies read is measured as a page entitled to directory filters: billing's free tier.
    workers = {"WORKERS": str(args.workers)} if args.workers is not None else {}
    return workers | {"FREE_TIER_DIRECTORY_FILTERS": "true"}


def _endpoints(suite: Suite, service: str, edge: envoy.RunningEnvoy) -> Endpoints:
    return Endpoints(suite.grpc_target(service), edge.url(""), edge.port)


def _echo_endpoints(echo: EchoCeiling) -> Endpoints:
    return Endpoints(echo.grpc_target, echo.edge.url(""), echo.edge.port)


def _measure_reads(
    h2: H2Load,
    work: Path,
    chosen: list[Read],
    echo: EchoCeiling,
    suite: Suite,
    edge: envoy.RunningEnvoy,
    profiling: bool = False,
) -> list[Row]:
    prober = Prober()
    try:
        call, at_echo = echo_call(echo.descriptor_set), _echo_endpoints(echo)
        rows = [
            measure.read(h2, work, prober, ECHO_NAME, "echo", call, lambda _: None, at_echo, transport)
            for transport in TRANSPORTS
        ]
        for r in chosen:
            at = _endpoints(suite, r.service, edge)
            for t in TRANSPORTS:
                if not (profiling and t == DIRECT):
                    rows.append(measure.read(h2, work, prober, r.name, r.service, r.call, r.check, at, t))
                    continue
                with profile.sampling(work, r.name, suite.pids[r.service], h2.warmup + h2.duration) as found:
                    row = measure.read(h2, work, prober, r.name, r.service, r.call, r.check, at, t)
                row.profile = {kind: p.as_json() for kind, p in found.items()}
                rows.append(row)
        return rows
    finally:
        prober.close()


def _measure_writes(
    args: argparse.Namespace,
    chosen: list[Write],
    world: World,
    echo: EchoCeiling,
    suite: Suite,
    edge: envoy.RunningEnvoy,
) -> list[Row]:
    timing = {"workers": args.connections, "duration": args.duration, "warmup": args.warmup}
    call, at_echo = echo_call(echo.descriptor_set), _echo_endpoints(echo)
    rows = [measure.write(ECHO_NAME, "echo", _repeat(call), ECHO, at_echo, t, **timing) for t in TRANSPORTS]
    for w in chosen:
        at = _endpoints(suite, w.service, edge)
        for rank, transport in enumerate(TRANSPORTS):
            draw = measure.drawer(w, world.actors(w, args.connections, rank))
            rows.append(measure.write(w.name, w.service, draw, SERVICES[w.service], at, transport, **timing))
    return rows


def _repeat(call: Call) -> Callable[[int], Call | None]:
    return lambda _: call


def _first_worker(draw: Callable[[int], Call | None]) -> Callable[[int], Call | None]:
    """The i-th call of the counting pass is the next one of a single worker's."""
    return lambda _: draw(0)


def _sequences(chosen_reads: list[Read], chosen_writes: list[Write], world: World) -> list[tuple[str, Sequence]]:
    """(service, how the counting pass calls the target) for every target chosen; a write acts as a
    page of its own (see World.counting_actor)."""
    found = [(r.service, Sequence(r.name, _repeat(r.call), r.check)) for r in chosen_reads]
    for w in chosen_writes:
        found.append(
            (w.service, Sequence(w.name, _first_worker(measure.drawer(w, [world.counting_actor(w)])), w.check))
        )
    return found


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    split = core_split() if args.pin else None
    service_cores, load_cores = split if split else (set(), set())
    if load_cores:
        pin(os.getpid(), load_cores)  # h2load, Envoy and the driver: this process and its children
    h2 = H2Load(h2load(), args.connections, args.duration, args.warmup)
    env = _service_env(args)
    load_start = os.getloadavg()
    out = args.out or ROOT / "var" / "bench" / f"suite-{time.strftime('%Y%m%d-%H%M%S')}.json"
    with workdir("devinsider-bench-suite-") as (work, keys):
        concurrency = args.envoy_concurrency or None
        streams = args.upstream_max_streams
        edge_args = [] if streams is None else ["--upstream-max-streams", str(streams)]
        with (
            echo_ceiling(
                work, issuer=ISSUER, keys=keys, concurrency=concurrency, cores=service_cores, edge_args=edge_args
            ) as echo,
            suite_storage() as storage,
        ):
            with start_services(work, storage, issuer=ISSUER, keys=keys, env=env, cores=service_cores) as suite:
                edge = start_edge(
                    work,
                    "suite-edge",
                    SUITE_DESCRIPTORS,
                    suite.upstreams(),
                    issuer=ISSUER,
                    keys=keys,
                    concurrency=concurrency,
                    extra=edge_args,
                )
                try:
                    world = build(
                        edge.url(""),
                        keys,
                        ISSUER,
                        workers=args.connections,
                        targets=args.targets,
                        passes=len(TRANSPORTS),
                    )
                    chosen_reads = [r for r in reads(world.scenario) if _selected(r.name, r.service, args.only)]
                    chosen_writes = [w for w in writes(world.scenario) if _selected(w.name, w.service, args.only)]
                    rows = _measure_reads(h2, work, chosen_reads, echo, suite, edge, args.profile)
                    rows += _measure_writes(args, chosen_writes, world, echo, suite, edge)
                finally:
                    edge.stop()
            trips, idle = _count(args, work, storage, keys, env, service_cores, chosen_reads, chosen_writes, world)
    for row in rows:
        row.round_trips = trips.get(row.target)
    add_ratios(rows)
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.suite" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])),
        "commit": _commit(),
        "config": {k: v for k, v in vars(args).items() if k != "out"} | {"cpus": os.cpu_count()},
        "placement": _placement(service_cores, load_cores),
        "load_average": {"start": load_start, "end": os.getloadavg()},  # other jobs on the machine show here
        "idle_round_trips_per_second": idle,
        "rows": [row.as_json() for row in rows],
        "goals": goals(rows),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(markdown(report, rows), flush=True)
    print(f"\nJSON: {out}", flush=True)
    return 0


def _count(
    args: argparse.Namespace,
    work: Path,
    storage: Storage,
    keys: Path,
    env: dict[str, str],
    cores: set[int],
    chosen_reads: list[Read],
    chosen_writes: list[Write],
    world: World,
) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """The counting pass: the services again, on the same data, through the counting proxies."""
    with counting.counting_proxies(list(SERVICES)) as proxies:
        urls = counting.proxied_urls(proxies)
        quiet = env | QUIET
        with start_services(
            work, storage, issuer=ISSUER, keys=keys, database_urls=urls, env=quiet, cores=cores
        ) as suite:
            prober = Prober()
            try:
                idle = counting.idle_rate(proxies)
                trips = {
                    sequence.name: asdict(
                        counting.count(
                            sequence,
                            proxies,
                            prober,
                            suite.grpc_target(service),
                            calls=args.count_calls,
                            warm=args.count_warm,
                            idle=idle,
                        )
                    )
                    for service, sequence in _sequences(chosen_reads, chosen_writes, world)
                }
            finally:
                prober.close()
    return trips, idle


def _commit() -> str:
    command = ["git", "rev-parse", "--short", "HEAD"]
    found = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    return found.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())

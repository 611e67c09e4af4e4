"""Load bench (never a test): the whole suite on PostgreSQL and Redis, seeded with realistic pages, driven
with a realistic mix (bench/load/mix.py) for a fixed time through the REST edge and directly over gRPC;
then the same with two replicas of the hot service. Every figure is also a ratio to the echo ceiling
measured in the same run by the same driver (REST: echo through Envoy; gRPC: the echo service direct).

`make bench-load` = `python -m bench.load` (`--quick` for a smoke run of a few seconds). Writes a markdown
table to stdout and the figures as JSON under var/bench/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.calls import ECHO, Call, echo_call
from bench.common import ROOT, SUITE_DESCRIPTORS, EchoCeiling, echo_ceiling, start_edge, workdir
from bench.load import driver
from bench.load.mix import MIX, Mix
from bench.load.seed import Seeded, seed
from bench.load.suite import SERVICES, Suite, running_suite
from bench.stats import summarise
from devinsider_gateway.testing import envoy

ISSUER = "http://localhost/devinsider-bench-load"


def _phase(name: str, tally: driver.Tally, per_op: bool) -> dict[str, Any]:
    overall = summarise(name, tally.all_latencies(), tally.failed, tally.seconds)
    phase: dict[str, Any] = {"overall": asdict(overall), "errors": dict(tally.errors)}
    if per_op:
        phase["operations"] = {
            op: asdict(summarise(op, latencies, tally.failures.get(op, 0), tally.seconds))
            for op, latencies in sorted(tally.latencies.items())
        }
    return phase


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def _ratios(result: dict[str, Any], ceiling: dict[str, Any]) -> dict[str, float]:
    r, c = result["overall"], ceiling["overall"]
    return {
        "throughput": _ratio(r["rps"], c["rps"]),
        "p50": _ratio(r["p50_ms"], c["p50_ms"]),
        "p99": _ratio(r["p99_ms"], c["p99_ms"]),
    }


def _markdown(report: dict[str, Any]) -> str:
    cfg = report["config"]
    lines = [
        f"Load bench: {cfg['connections']} workers (closed loop, one connection each), {cfg['duration']} s per phase "
        f"after {cfg['warmup']} s warm-up (and one {cfg['warm_pass']} s unmeasured pass of the mix first); "
        f"{cfg['companies']} companies, {cfg['investors']} investors, "
        f"{cfg['programs']} programs; hot service `{cfg['hot']}`; Envoy --concurrency {cfg['envoy_concurrency']}",
        "",
        "| phase | req/s | x echo | p50 ms | x echo | p99 ms | x echo | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, phase in report["phases"].items():
        o, ratio = phase["overall"], report["ratios"].get(name, {"throughput": 1.0, "p50": 1.0, "p99": 1.0})
        lines.append(
            f"| {name} | {o['rps']:.0f} | {ratio['throughput']:.2f} | {o['p50_ms']:.2f} | {ratio['p50']:.2f} "
            f"| {o['p99_ms']:.2f} | {ratio['p99']:.2f} | {o['failed']} |"
        )
    lines += ["", "| comparison | throughput | p50 | p99 |", "|---|---:|---:|---:|"]
    for name, ratio in report["comparisons"].items():
        lines.append(f"| {name} | {ratio['throughput']:.2f}x | {ratio['p50']:.2f}x | {ratio['p99']:.2f}x |")
    header = "| operation (mix, 1 replica) | REST req/s | REST p50 | REST p99 | gRPC req/s | gRPC p50 | gRPC p99 |"
    lines += ["", header]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    rest, direct = report["phases"]["mix REST via Envoy"], report["phases"]["mix direct gRPC"]
    for op in sorted(rest.get("operations", {})):
        a, b = rest["operations"][op], direct["operations"].get(op, {"rps": 0, "p50_ms": 0, "p99_ms": 0})
        lines.append(
            f"| {op} | {a['rps']:.0f} | {a['p50_ms']:.2f} | {a['p99_ms']:.2f} "
            f"| {b['rps']:.0f} | {b['p50_ms']:.2f} | {b['p99_ms']:.2f} |"
        )
    errors = {f"{phase}: {k}": v for phase, p in report["phases"].items() for k, v in p["errors"].items()}
    if errors:
        lines += ["", "Errors: " + ", ".join(f"{k} x{v}" for k, v in sorted(errors.items()))]
    return "\n".join(lines)


def _drawer(mixes: list[Mix]) -> Callable[[int], Call]:
    return lambda worker: mixes[worker].next()


def _run_phases(
    args: argparse.Namespace, echo: EchoCeiling, suite: Suite, edges: dict[int, envoy.RunningEnvoy], seeded: Seeded
) -> dict[str, Any]:
    echo_request = echo_call(echo.descriptor_set)
    duration, warmup, workers = args.duration, args.warmup, args.connections
    phases: dict[str, Any] = {}
    phases["echo REST via Envoy"] = _phase(
        "echo REST",
        driver.run_rest("127.0.0.1", echo.edge.port, workers, duration, warmup, lambda _: echo_request),
        per_op=False,
    )
    phases["echo direct gRPC"] = _phase(
        "echo gRPC",
        driver.run_grpc({ECHO: echo.grpc_target}, workers, duration, warmup, lambda _: echo_request),
        per_op=False,
    )
    # An unmeasured pass of the mix first (its own investors), so that the first measured phase does not
    # pay alone for cold caches, connection pools and the database's first reads.
    warm_mix = [Mix(seeded, w, seed=99, investor_offset=4 * workers) for w in range(workers)]
    driver.run_rest("127.0.0.1", edges[1].port, workers, args.warm_pass, 0.0, _drawer(warm_mix))
    for replicas in (1, 2):
        suffix = "" if replicas == 1 else f" ({replicas}x {args.hot})"
        offset = (replicas - 1) * 2 * workers  # each mix phase has its own investors (see Mix)
        rest_mix = [Mix(seeded, worker, seed=replicas, investor_offset=offset) for worker in range(workers)]
        port = edges[replicas].port
        rest = driver.run_rest("127.0.0.1", port, workers, duration, warmup, _drawer(rest_mix))
        phases[f"mix REST via Envoy{suffix}"] = _phase("mix REST", rest, per_op=True)
        grpc_mix = [Mix(seeded, w, seed=10 + replicas, investor_offset=offset + workers) for w in range(workers)]
        targets = {
            full: suite.grpc_target(name, replicas if name == args.hot else 1) for name, full in SERVICES.items()
        }
        direct = driver.run_grpc(targets, workers, duration, warmup, _drawer(grpc_mix))
        phases[f"mix direct gRPC{suffix}"] = _phase("mix gRPC", direct, per_op=True)
    return phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each phase's measurement")
    parser.add_argument("--warm-pass", type=float, default=10.0, help="seconds of unmeasured mix before all")
    parser.add_argument("--connections", type=int, default=8, help="concurrent workers (one connection each)")
    parser.add_argument("--companies", type=int, default=40)
    parser.add_argument("--investors", type=int, default=40, help="at least 5 x --connections")
    parser.add_argument("--programs", type=int, default=10)
    parser.add_argument("--hot", default="company", choices=sorted(SERVICES), help="the service run twice")
    parser.add_argument("--envoy-concurrency", type=int, default=1, help="Envoy worker threads")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 s phases, small data, 4 workers")
    parser.add_argument("--out", type=Path, help="the JSON report (default var/bench/load-<time>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.connections = min(args.duration, 2.0), 0.5, min(args.connections, 4)
        args.warm_pass, args.companies, args.investors, args.programs = 1.0, 6, 20, 3
    # Every worker has its own company, and its own investor page in each mix phase and the warm pass.
    args.companies, args.investors = max(args.companies, args.connections), max(args.investors, 5 * args.connections)
    out = args.out or ROOT / "var" / "bench" / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    with workdir("devinsider-bench-load-") as (work, keys):
        concurrency = args.envoy_concurrency or None
        with (
            echo_ceiling(work, issuer=ISSUER, keys=keys, concurrency=concurrency) as echo,
            # One process per replica (WORKERS=1): replicas are what this bench compares.
            running_suite(work, issuer=ISSUER, keys=keys, replicas={args.hot: 2}, env={"WORKERS": "1"}) as suite,
        ):
            edges: dict[int, envoy.RunningEnvoy] = {}
            try:
                for replicas in (1, 2):
                    edges[replicas] = start_edge(
                        work,
                        f"suite-edge-{replicas}",
                        SUITE_DESCRIPTORS,
                        suite.upstreams({args.hot: replicas}),
                        issuer=ISSUER,
                        keys=keys,
                        concurrency=concurrency,
                    )
                seeded = seed(edges[1].url(""), keys, ISSUER, args.companies, args.investors, args.programs)
                phases = _run_phases(args, echo, suite, edges, seeded)
            finally:
                for edge in edges.values():
                    edge.stop()
    ceilings = {"REST": phases["echo REST via Envoy"], "gRPC": phases["echo direct gRPC"]}
    ratios = {name: _ratios(p, ceilings["REST" if "REST" in name else "gRPC"]) for name, p in phases.items()}
    two = f" (2x {args.hot})"
    comparisons = {
        "REST via Envoy / direct gRPC (mix)": _ratios(phases["mix REST via Envoy"], phases["mix direct gRPC"]),
        f"2 / 1 {args.hot} replicas, REST": _ratios(phases[f"mix REST via Envoy{two}"], phases["mix REST via Envoy"]),
        f"2 / 1 {args.hot} replicas, gRPC": _ratios(phases[f"mix direct gRPC{two}"], phases["mix direct gRPC"]),
    }
    config = {k: v for k, v in vars(args).items() if k != "out"}
    config["mix"] = {builder.__name__: weight for builder, weight in MIX}
    report = {"config": config, "phases": phases, "ratios": ratios, "comparisons": comparisons}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(_markdown(report), flush=True)
    print(f"\nJSON: {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

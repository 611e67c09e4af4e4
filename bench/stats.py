"""Figures from h2load's per-request log: throughput, p50/p99, and ratios to the echo ceiling."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    failed: int  # non-200 responses
    rps: float
    p50_ms: float
    p99_ms: float


def _percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index] / 1000.0


def summarise(name: str, latencies_us: list[int], failed: int, seconds: float) -> Result:
    """A Result from per-request latencies (microseconds) measured over `seconds`."""
    ordered = sorted(latencies_us)
    rps = len(ordered) / seconds if seconds > 0 else float("nan")
    return Result(name, len(ordered), failed, rps, _percentile(ordered, 0.5), _percentile(ordered, 0.99))


def load(name: str, log: Path, duration: int, output: str) -> Result:
    """h2load --log-file lines: start time (us since epoch), HTTP status, duration (us)."""
    latencies: list[int] = []
    failed = 0
    for line in log.read_text().splitlines():
        _, status, micros = line.split("\t")[:3]
        if status != "200":
            failed += 1
        latencies.append(int(micros))
    latencies.sort()
    match = re.search(r"finished in [^,]+, ([0-9.]+) req/s", output)
    rps = float(match.group(1)) if match else len(latencies) / duration
    return Result(name, len(latencies), failed, rps, _percentile(latencies, 0.5), _percentile(latencies, 0.99))


def report(results: list[Result], args: argparse.Namespace) -> str:
    ceiling = results[0]
    lines = [
        f"h2load, {args.connections} connections x 1 stream, {args.duration} s per target, loopback"
        + (f", Envoy --concurrency {args.envoy_concurrency}" if getattr(args, "envoy_concurrency", None) else "")
        + (
            f", services on cores {sorted(args.service_cores)}, h2load and Envoy on {sorted(args.load_cores)}"
            if getattr(args, "load_cores", None)
            else ""
        ),
        f"{'target':<26}{'req/s':>10}{'x echo':>8}{'p50 ms':>9}{'p99 ms':>9}{'non-200':>9}",
    ]
    for r in results:
        lines.append(
            f"{r.name:<26}{r.rps:>10.0f}{r.rps / ceiling.rps:>8.2f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.failed:>9}"
        )
    rest, direct = results[1], results[2]
    lines.append(
        f"REST via Envoy / direct gRPC: throughput {rest.rps / direct.rps:.2f}x, "
        f"p50 {rest.p50_ms / direct.p50_ms:.2f}x, p99 {rest.p99_ms / direct.p99_ms:.2f}x"
    )
    return "\n".join(lines)

"""Throughput and p50/p99, from h2load's per-request log or from the driver's latencies."""

from __future__ import annotations

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


def load(name: str, log: Path, duration: float, output: str) -> Result:
    """h2load --log-file lines (the measured requests only, not the warm-up's): start time (us since
    epoch), HTTP status, duration (us)."""
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

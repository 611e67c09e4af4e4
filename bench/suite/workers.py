"""One service with 1 worker process against 2 (`make bench-workers` = `python -m bench.suite.workers`).

Runs the suite bench twice back to back, the same target each time (GetCompany as its owner, over direct gRPC
and through Envoy), every core shared (`--no-pin`: pinned, the services would have one core for two
processes), with `--workers 1` then `--workers 2`; the rest of the suite is idle. Prints each run's req/s, the
echo of the same run, and the ratio 2 workers / 1 worker; the figures go to var/bench/workers-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT

TARGET = "GetCompany (owner)"


def _run(workers: int, extra: list[str], out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.suite", "--only", TARGET, "--no-pin", "--workers", str(workers)]
    subprocess.run([*command, *extra, "--out", str(out)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return dict(json.loads(out.read_text(encoding="utf-8")))


def _rps(report: dict[str, Any], target: str, transport: str) -> float:
    rows = [r for r in report["rows"] if r["target"] == target and r["transport"] == transport]
    return float(rows[0]["ok_rps"]) if rows else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds per target")
    args = parser.parse_args(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    extra = ["--quick"] if args.quick else []
    runs = {n: _run(n, extra, folder / f"workers-{stamp}-{n}.json") for n in (1, 2)}
    lines = ["| workers | transport | req/s | echo req/s (same run) | x 1 worker |", "|---:|---|---:|---:|---:|"]
    ratios: dict[str, float] = {}
    for transport in ("direct gRPC", "REST via Envoy"):
        base = _rps(runs[1], TARGET, transport)
        for n, report in runs.items():
            rps = _rps(report, TARGET, transport)
            ratio = rps / base if base else float("nan")
            if n == 2:
                ratios[transport] = round(ratio, 2)
            echo = _rps(report, "echo", transport)
            lines.append(f"| {n} | {transport} | {rps:.0f} | {echo:.0f} | {ratio:.2f} |")
    out = folder / f"workers-{stamp}.json"
    summary = {"target": TARGET, "ratios_2_over_1": ratios, "runs": {str(n): r for n, r in runs.items()}}
    out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print("\n".join(lines), flush=True)
    print(f"\n2 workers / 1 worker: {ratios} (goal: direct gRPC >= 1.5)\nJSON: {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

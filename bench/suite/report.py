"""The suite bench's figures: one row per target and transport, ratios to the echo measured by the same
tool over the same transport, the issue's goals checked, and the markdown of all that."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench.stats import Result

DIRECT, ENVOY = "direct gRPC", "REST via Envoy"
ECHO_NAME = "echo"


@dataclass
class Row:
    target: str
    transport: str  # DIRECT or ENVOY
    tool: str  # "h2load" or "driver"
    service: str
    result: Result
    errors: dict[str, int] = field(default_factory=dict)  # what failed -> how often
    exhausted_workers: int = 0  # driver workers that ran out of distinct targets before the end
    error_samples: dict[str, str] = field(default_factory=dict)  # what failed -> the first message
    x_echo: float = float("nan")
    p99_x_echo: float = float("nan")
    round_trips: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None  # --profile: where the service's time went (bench/suite/profile.py)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def ok_rps(self) -> float:
        """Successful calls per second: a refusal answered fast is not throughput."""
        r = self.result
        return r.rps * (r.requests - r.failed) / r.requests if r.requests else 0.0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["failed"], data["ok_rps"] = self.failed, round(self.ok_rps, 1)
        return data


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def add_ratios(rows: list[Row]) -> None:
    """Each row against the echo of its tool and transport."""
    echoes = {(r.tool, r.transport): r for r in rows if r.target == ECHO_NAME}
    for row in rows:
        echo = echoes.get((row.tool, row.transport))
        if echo is not None:
            row.x_echo = _ratio(row.ok_rps, echo.ok_rps)
            row.p99_x_echo = _ratio(row.result.p99_ms, echo.result.p99_ms)


def _trips(row: Row) -> str:
    if row.round_trips is None:
        return "-" if row.target == ECHO_NAME else "n/a"
    return f"{row.round_trips['per_call']:.2f}"


def _errors(row: Row) -> str:
    text = ", ".join(f"{what} x{n}" for what, n in sorted(row.errors.items())) or "0"
    if row.exhausted_workers:
        text += f" (capped: {row.exhausted_workers} workers ran out of targets)"
    return text


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| target | transport | req/s (OK) | x echo | p50 ms | p99 ms | p99 x echo p99 | DB round trips/RPC | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        res = r.result
        lines.append(
            f"| {r.target} | {r.transport} | {r.ok_rps:.0f} | {r.x_echo:.2f} | {res.p50_ms:.2f} | {res.p99_ms:.2f} "
            f"| {r.p99_x_echo:.2f} | {_trips(r)} | {_errors(r)} |"
        )
    return lines


def goals(rows: list[Row]) -> list[dict[str, Any]]:
    """The issue's goals over the reads measured (a goal with no row to judge is left out)."""
    reads = [r for r in rows if r.tool == "h2load" and r.target != ECHO_NAME]
    direct = {r.target: r for r in reads if r.transport == DIRECT}
    envoy = {r.target: r for r in reads if r.transport == ENVOY}
    checks: list[tuple[str, dict[str, float], float, bool]] = [
        (
            "GetCompany direct ≥ 0.5x echo (req/s)",
            {t: r.x_echo for t, r in direct.items() if t.startswith("GetCompany")},
            0.5,
            True,
        ),
        (
            "through Envoy ≥ 0.9x direct (req/s)",
            {t: _ratio(envoy[t].ok_rps, r.ok_rps) for t, r in direct.items() if t in envoy},
            0.9,
            True,
        ),
        ("p99 ≤ 3x echo's p99", {f"{r.target} ({r.transport})": r.p99_x_echo for r in reads}, 3.0, False),
        (
            "hot read ≤ 1 DB round trip when warm",
            {t: r.round_trips["per_call"] for t, r in direct.items() if r.round_trips is not None},
            1.0,
            False,
        ),
    ]
    found = []
    for goal, values, bound, at_least in checks:
        if not values:
            continue
        missed = {t: v for t, v in values.items() if not (v >= bound if at_least else v <= bound)}
        found.append({"goal": goal, "values": values, "missed": missed, "met": not missed})
    return found


def markdown(report: dict[str, Any], rows: list[Row]) -> str:
    cfg, load = report["config"], report["load_average"]
    reads = [r for r in rows if r.tool == "h2load"]
    writes = [r for r in rows if r.tool == "driver"]
    lines = [
        f"Suite bench, {report['date']}: `{report['command']}`",
        "",
        f"Reads: h2load (HTTP/2), {cfg['connections']} connections x 1 stream, {cfg['duration']:g} s per target "
        f"after {cfg['warmup']:g} s warm-up; x echo: against the echo over the same transport, same run. "
        f"{report['placement']}; services with WORKERS={cfg['workers'] or 'their default'}; load average "
        f"{load['start'][0]:.1f} at the start, {load['end'][0]:.1f} at the end.",
        "",
        *table(reads),
    ]
    if writes:
        lines += [
            "",
            f"Writes: measured by the closed-loop driver (bench/load/driver.py: {cfg['connections']} workers, "
            "gRPC one channel each, REST over HTTP/1.1 keep-alive), not by h2load, since every request must "
            "differ; x echo: against the echo measured by the same driver in the same run.",
            "",
            *table(writes),
        ]
    lines += [
        "",
        f"DB round trips/RPC: counted on the wire by a proxy in front of PostgreSQL in a separate pass "
        f"(direct gRPC, {cfg['count_calls']} calls one after another after {cfg['count_warm']} warm-up calls; "
        "the same for both transports); a write's asynchronous work (outbox relay, consumers) is not in it.",
    ]
    said: dict[str, list[str]] = {}
    for r in rows:
        for kind, message in r.error_samples.items():
            said.setdefault(message[:200], []).append(f"{kind} ({r.transport})")
    if said:
        lines += ["", "What the errors said: " + "; ".join(f'"{m}" ({", ".join(k)})' for m, k in said.items())]
    lines += profiles(rows)
    if report["goals"]:
        lines += ["", "| goal | met | misses |", "|---|---|---|"]
        for g in report["goals"]:
            misses = ", ".join(f"{t}: {v:.2f}" for t, v in g["missed"].items()) or "-"
            lines.append(f"| {g['goal']} | {'yes' if g['met'] else 'no'} | {misses} |")
    return "\n".join(lines)


def profiles(rows: list[Row]) -> list[str]:
    """--profile: per profiled read, the share of samples per bucket, of the active threads and of the GIL."""
    profiled = [r for r in rows if r.profile]
    if not profiled:
        return []
    lines = ["", "Profiles (py-spy on the service's processes under the direct load; share of samples):", ""]
    for r in profiled:
        assert r.profile is not None
        for kind in ("active", "gil"):
            found = r.profile.get(kind, {})
            buckets = ", ".join(f"{name} {share:.0%}" for name, share in found.get("buckets", {}).items())
            lines.append(f"- {r.target}, {kind} ({found.get('samples', 0)} samples): {buckets or 'no sample'}")
        ours = r.profile.get("active", {}).get("our_frames", [])[:6]
        if ours:
            lines.append("  - our frames (active): " + ", ".join(f"{frame} {share:.0%}" for frame, share in ours))
    return lines

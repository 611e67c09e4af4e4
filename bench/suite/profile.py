"""Where a service's time goes under a read's load (`--profile`): py-spy samples the service's processes
(the supervisor and its workers) while h2load drives the read over direct gRPC.

Two samplings run side by side: every thread that is not idle ("active": running Python or waiting in a
call that py-spy does not count as idle, such as a socket read of psycopg or redis), and the thread holding
the GIL ("gil": the Python CPU of a process, the budget one core gives). Each sample is put in one bucket by
the innermost frame that names a known library (or ours), and the report gives each bucket's share, plus the
frames of our own code that the most samples pass through.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Innermost-first: the first module a sample's stack names, read from its leaf, decides its bucket.
BUCKETS = (
    ("postgresql (psycopg)", ("psycopg/", "psycopg_binary", "psycopg_pool")),
    ("redis", ("redis/",)),
    ("sqlalchemy", ("sqlalchemy/",)),
    ("protobuf", ("google/protobuf/",)),
    ("jwt and crypto", ("jwt/", "cryptography/")),
    ("logging", ("structlog/", "logging/")),
    ("metrics", ("prometheus_client/",)),
    ("tracing", ("opentelemetry/",)),
    ("our code", ("devinsider_common/", "_service/", "devinsider/")),
    ("grpc runtime", ("grpc/",)),
    ("threads and queues", ("threading.py", "concurrent/futures/", "queue.py")),
)
OTHER = "other"
OURS = ("devinsider_common/", "_service/")


@dataclass
class Profile:
    samples: int = 0
    buckets: dict[str, float] = field(default_factory=dict)  # share of samples, 0..1
    our_frames: list[tuple[str, float]] = field(default_factory=list)  # (function (file), inclusive share)

    def as_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "buckets": {k: round(v, 3) for k, v in self.buckets.items()},
            "our_frames": [[frame, round(share, 3)] for frame, share in self.our_frames],
        }


def available() -> str | None:
    """py-spy's path (the dev lock installs it beside our Python), or None."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextmanager
def sampling(work: Path, name: str, pid: int, seconds: float) -> Iterator[dict[str, Profile]]:
    """py-spy on `pid` and its subprocesses for `seconds` (the load's duration); the profiles are filled in
    when the block ends (py-spy stops on its own, then its files are read)."""
    spy = available()
    if spy is None:
        raise RuntimeError("--profile needs py-spy (make install puts it in .venv/bin)")
    slug = name.replace(" ", "-").replace("(", "").replace(")", "")
    outputs = {kind: work / f"profile-{slug}-{kind}.txt" for kind in ("active", "gil")}
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--format", "raw"]
    command += ["--duration", str(max(1, round(seconds)))]
    spies = [
        subprocess.Popen(  # noqa: S603 - py-spy from our venv, no shell
            [*command, *(["--gil"] if kind == "gil" else []), "--output", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for kind, path in outputs.items()
    ]
    profiles: dict[str, Profile] = {}
    try:
        yield profiles
    finally:
        for spy_process in spies:
            try:
                spy_process.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                spy_process.kill()
        for kind, path in outputs.items():
            profiles[kind] = summarize(path.read_text() if path.exists() else "")


def summarize(raw: str, top: int = 12) -> Profile:
    """A profile from py-spy's raw (collapsed) output: `frame;frame;...;leaf count` per line."""
    buckets: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        buckets[_bucket(frames)] += count
        for frame in {_short(f) for f in frames if any(mark in f for mark in OURS)}:
            ours[frame] += count
    if not total:
        return Profile()
    return Profile(
        total,
        {name: n / total for name, n in buckets.most_common()},
        [(frame, n / total) for frame, n in ours.most_common(top)],
    )


def _bucket(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, marks in BUCKETS:
            if any(mark in frame for mark in marks):
                return name
    return OTHER


def _short(frame: str) -> str:
    """`function (path:line)` -> `function (module/file.py)`: one entry per function, whatever the line."""
    function, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    return f"{function} ({'/'.join(path.split('/')[-2:])})"

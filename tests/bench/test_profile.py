"""The bench's profiler (`--profile`): py-spy's collapsed stacks put in buckets, and a real sampling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.suite.profile import sampling, summarize

WORKER, HANDLE = "_worker (concurrent/futures/thread.py:81)", "handle (devinsider_common/grpc/interceptors.py:90)"
GET = "get (company_service/service_layer/companies.py:120)"
RAW = "\n".join(
    [
        f"{WORKER};{HANDLE};{GET};execute (sqlalchemy/engine/base.py:1400);wait (psycopg/connection.py:495) 6",
        f"{WORKER};{HANDLE};info (structlog/_native.py:50) 3",
        "_serve (grpc/_server.py:1314) 1",
    ]
)


def test_samples_go_to_the_innermost_library_and_our_frames_are_counted_inclusively() -> None:
    found = summarize(RAW)
    assert found.samples == 10
    assert found.buckets == {"postgresql (psycopg)": 0.6, "logging": 0.3, "grpc runtime": 0.1}
    ours = dict(found.our_frames)
    assert ours["handle (grpc/interceptors.py)"] == 0.9  # every sample through the interceptor, whatever its leaf
    assert ours["get (service_layer/companies.py)"] == 0.6


def test_an_empty_or_garbled_profile_has_no_samples() -> None:
    assert summarize("").samples == 0
    assert summarize("no count here\n").buckets == {}


def test_py_spy_samples_a_running_process_and_its_children(tmp_path: Path) -> None:
    busy = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'while True: pass'])"
    parent = subprocess.Popen([sys.executable, "-c", busy])
    try:
        with sampling(tmp_path, "busy child", parent.pid, 2) as profiles:
            pass
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)
        parent.kill()
        parent.wait()
    assert profiles["active"].samples > 50  # the child spins: its samples are in (100 a second)
    assert profiles["gil"].samples > 50
    assert (tmp_path / "profile-busy-child-active.txt").exists()

"""What the benches' smoke tests share: a bench run in --quick mode, after the servers it needs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devinsider_common.testing import infra

ROOT = Path(__file__).resolve().parents[2]

QuickRun = Callable[[str], tuple[dict[str, Any], str]]


@pytest.fixture
def quick_run(tmp_path: Path) -> QuickRun:
    """`quick_run("bench.suite")`: that bench with --quick on the real servers (its JSON report, its
    stdout); fails with the end of its output when it fails."""

    def run(module: str) -> tuple[dict[str, Any], str]:
        infra.require("127.0.0.1", 5432, "PostgreSQL")
        infra.require("127.0.0.1", 6379, "Redis")
        infra.require(infra.AMQP_HOST, infra.AMQP_PORT, "RabbitMQ")
        out = tmp_path / "report.json"
        finished = subprocess.run(
            [sys.executable, "-m", module, "--quick", "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
        return json.loads(out.read_text()), finished.stdout

    return run

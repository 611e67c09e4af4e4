"""`make bench-workers`: the two runs' figures turned into the 2-workers / 1-worker ratio (runs faked here: the
suite bench itself is smoke-tested in test_suite_smoke.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.suite import workers


def _report(rps: float, echo: float) -> dict[str, Any]:
    rows = [
        {"target": target, "transport": transport, "ok_rps": value}
        for transport in ("direct gRPC", "REST via Envoy")
        for target, value in ((workers.TARGET, rps), ("echo", echo))
    ]
    return {"rows": rows}


def test_the_ratio_is_two_workers_over_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple[int, list[str]]] = []

    def run(n: int, extra: list[str], out: Path) -> dict[str, Any]:
        asked.append((n, extra))
        return _report({1: 600.0, 2: 1080.0}[n], 4000.0)

    monkeypatch.setattr(workers, "_run", run)
    monkeypatch.setattr(workers, "ROOT", tmp_path)
    assert workers.main(["--quick"]) == 0
    assert asked == [(1, ["--quick"]), (2, ["--quick"])]
    printed = capsys.readouterr().out
    assert "| 2 | direct gRPC | 1080 | 4000 | 1.80 |" in printed
    saved = json.loads(next((tmp_path / "var" / "bench").glob("workers-*[0-9].json")).read_text())
    assert saved["ratios_2_over_1"] == {"direct gRPC": 1.8, "REST via Envoy": 1.8}

"""The OpenAPI document of the real protos passes Redocly CLI with redocly.yaml (what `make openapi-lint` runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"
# Offline and quiet: no usage telemetry, no update check.
ENV = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("openapi")
    script = ROOT / "scripts" / "openapi_document.py"
    subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True, timeout=120)
    return out / "openapi.json"


def _lint(path: Path) -> tuple[int, dict[str, Any]]:
    if not REDOCLY.exists():
        pytest.fail("node_modules/.bin/redocly is missing: run `make install` (npm ci)")
    args = [str(REDOCLY), "lint", "--config", str(ROOT / "redocly.yaml"), "--format", "json", str(path)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, env=ENV, check=False, cwd=ROOT)
    return result.returncode, json.loads(result.stdout)


def test_the_generated_document_has_no_lint_problem(document: Path) -> None:
    code, report = _lint(document)
    problems = [(p["ruleId"], p["message"], p["location"][0]["pointer"]) for p in report["problems"]]
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, problems[:20]
    assert code == 0


def test_the_linter_fails_on_what_a_client_would_trip_over(document: Path, tmp_path: Path) -> None:
    """The check is live: an undocumented operation and an error example that contradicts the Status schema."""
    broken = json.loads(document.read_text(encoding="utf-8"))
    del broken["paths"]["/v1/companies/{companyId}"]["get"]["description"]
    example = broken["components"]["responses"]["400"]["content"]["application/json"]["example"]
    example["details"][0]["@type"] = "type.googleapis.com/google.rpc.Unknown"
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    code, report = _lint(path)
    assert code != 0
    assert {"operation-description", "no-invalid-media-type-examples"} <= {p["ruleId"] for p in report["problems"]}

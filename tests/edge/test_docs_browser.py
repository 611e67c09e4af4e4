"""/docs in headless Chromium: Swagger UI (from the pinned package) renders the operations."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import Edge


def test_docs_render_the_operations(edge: Edge, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing under CI=true (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=15000",  # lets Swagger UI fetch /openapi.json and render
        "--dump-dom",
    ]
    result = subprocess.run(
        [chromium, *flags, edge.url("/docs")], capture_output=True, text=True, timeout=120, check=False
    )
    dom = result.stdout
    assert 'class="swagger-ui' in dom, result.stderr[-2000:]
    assert "opblock-summary" in dom  # operations rendered, not an error box
    for operation_id in ("EchoService_Echo", "EchoService_Upload", "EchoService_Secret"):
        assert operation_id in dom or operation_id.split("_")[1] in dom
    assert "/v1/files/{path}" in dom.replace("&#8203;", "").replace("\u200b", "")
    assert "A multi-segment path capture" in dom  # the summary, from the proto comment
    assert "btn authorize" in dom  # where a bearer token is pasted (the `bearer` security scheme)

"""The README's TypeScript client: types generated from /openapi.json now (what `make ts-client` does), the
example compiled against them by tsc, then run in Node against the user service behind a real Envoy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, Stack

BIN = ROOT / "node_modules" / ".bin"
GENERATED = ROOT / "gen" / "typescript" / "devinsider-api.d.ts"
COMPILED = ROOT / "build" / "examples" / "typescript" / "profile.mjs"


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT, check=False)
    assert result.returncode == 0, f"{args[0]}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


def test_the_typescript_example_reads_and_updates_the_profile_with_typed_errors(stack: Stack, tmp_path: Path) -> None:
    # The client is generated from the document the edge serves, never from a stale copy.
    document = Path(_run([sys.executable, str(ROOT / "scripts" / "openapi_document.py"), str(tmp_path)]).strip())
    _run([str(BIN / "openapi-typescript"), str(document), "-o", str(GENERATED)])
    assert 'components["schemas"]["devinsider.user.v1.User"]' in GENERATED.read_text(encoding="utf-8")
    _run([str(BIN / "tsc"), "-p", str(ROOT / "examples" / "typescript")])  # fails if the example drifts from the API

    token = stack.token("ts-client")  # e-mail ts-client@example.com
    env = {**os.environ, "DEVINSIDER_URL": stack.url("").rstrip("/"), "DEVINSIDER_TOKEN": token}
    lines = _run(["node", str(COMPILED)], env).splitlines()

    name = lines[0].split()[1]
    assert lines[0] == f"me {name} ts-client@example.com" and name.startswith("users/")
    assert lines[1] == f"updated {name} jobTitle=CTO"
    assert lines[2] == "refused with HTTP 400"
    assert lines[3].startswith("error 3 ")
    assert "reason INVALID_ARGUMENT user.devinsider.io" in lines
    assert any(line.startswith("violation user.country_code ") for line in lines), lines

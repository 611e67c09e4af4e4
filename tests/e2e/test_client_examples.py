"""The README's typed-stub client example (examples/typed_stub_client.py) works against the real suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .suite_stack import SuiteStack, unique

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "typed_stub_client.py"


def test_the_typed_stub_example_creates_lists_and_reads_error_details(suite_stack: SuiteStack) -> None:
    token = suite_stack.token(unique("isv-example"))
    target = f"127.0.0.1:{suite_stack.company.port}"
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--target", target, "--token", token],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    created = next(line.split()[1] for line in lines if line.startswith("created "))
    assert created.startswith("companies/")
    assert f"listed {created} Carol Cloud" in lines  # found again by walking the directory's pages
    assert "error INVALID_ARGUMENT invalid company: company.display_name: is required" in lines
    assert "reason INVALID_ARGUMENT company.devinsider.io" in lines
    assert "violation company.display_name is required" in lines

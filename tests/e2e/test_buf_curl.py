"""The README's `buf curl` commands (server reflection, a call with a dev token) against a real service."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
BUF = ROOT / "node_modules" / ".bin" / "buf"


def buf_curl(*args: str) -> subprocess.CompletedProcess[str]:
    """`buf curl --protocol grpc --http2-prior-knowledge ARGS`, as the README writes it."""
    if not BUF.exists():
        pytest.fail(f"{BUF} is missing: `make install` installs the buf CLI from npm")
    command = [str(BUF), "curl", "--protocol", "grpc", "--http2-prior-knowledge", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_buf_curl_lists_services_and_methods_by_reflection(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.user.port}"
    services = buf_curl("--list-services", base)
    assert services.returncode == 0, services.stderr
    assert "devinsider.user.v1.UserService" in services.stdout.split()
    methods = buf_curl("--list-methods", base)
    assert methods.returncode == 0, methods.stderr
    assert "devinsider.user.v1.UserService/GetMe" in methods.stdout.split()


def test_buf_curl_calls_get_me_with_a_dev_token(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.user.port}/devinsider.user.v1.UserService/GetMe"
    me = buf_curl("--header", f"authorization: Bearer {stack.token('buf-alice')}", "--data", "{}", url)
    assert me.returncode == 0, me.stderr
    user = json.loads(me.stdout)
    assert (user["subject"], user["email"]) == ("buf-alice", "buf-alice@example.com")
    assert user["name"].startswith("users/")

    refused = buf_curl("--data", "{}", url)  # no token: the service's own refusal, with its status
    assert refused.returncode != 0
    assert '"code": "unauthenticated"' in refused.stderr, refused.stderr

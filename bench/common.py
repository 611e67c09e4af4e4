"""What the benches share: h2load, waiting for a gRPC service, an Envoy generated for some upstreams,
the echo ceiling (the test-only echo service, compiled at run time, in its own process, with an Envoy
in front), and pinning processes to cores."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.calls import ECHO
from bench.stats import Result, load
from devinsider_common.auth.dev_issuer import ensure_dev_keys
from devinsider_gateway import cli
from devinsider_gateway.testing import envoy

ROOT = Path(__file__).resolve().parent.parent
SUITE_DESCRIPTORS = ROOT / "gen" / "devinsider.binpb"


_GIVEN: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, below the kernel's range of ephemeral ports: a port the kernel hands out
    (bind to 0) may become the source port of one of the many connections a bench opens before the
    server meant for it binds it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(max(1024, low - 12000), low)
        if port in _GIVEN:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)  # not bound yet: not handed out twice
        return port


@contextmanager
def workdir(prefix: str) -> Iterator[tuple[Path, Path]]:
    """A temporary directory for a bench's logs and configs, and the dev issuer's keys in it."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        work = Path(tmp)
        ensure_dev_keys(work / "keys")
        yield work, work / "keys"


def h2load() -> str:
    """h2load from Debian's nghttp2-client, installed when absent."""
    if not shutil.which("h2load"):
        print("bench: installing h2load (nghttp2-client)", flush=True)
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "nghttp2-client"], check=True, env=env)  # noqa: S607
    return shutil.which("h2load") or "h2load"


@dataclass(frozen=True)
class H2Load:
    """How h2load loads every target: `connections` connections of one stream each, `duration` s measured
    after `warmup` s (on the cores of this process)."""

    tool: str
    connections: int
    duration: float
    warmup: float

    def run(self, work: Path, name: str, url: str, headers: dict[str, str], data: bytes | None = None) -> Result:
        """One target; `data`: the body of every request (h2load then POSTs it)."""
        slug = "".join(c if c.isalnum() else "-" for c in name)
        log = work / f"{slug}.tsv"
        log.unlink(missing_ok=True)  # h2load appends
        command = [self.tool, url, "-c", str(self.connections), "-m", "1", "-D", _ms(self.duration)]
        command += ["--warm-up-time", _ms(self.warmup), "--log-file", str(log)]
        for header, value in headers.items():
            command += ["-H", f"{header}: {value}"]
        if data is not None:
            body = work / f"{slug}.body"
            body.write_bytes(data)
            command += ["-d", str(body)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
        return load(name, log, self.duration, output)


def _ms(seconds: float) -> str:
    """An h2load duration (it takes no fraction of a second, but takes units)."""
    return f"{round(seconds * 1000)}ms"


def taskset(cores: Iterable[int]) -> list[str]:
    """The prefix that runs a command on `cores` (none when empty)."""
    wanted = sorted(cores)
    return ["taskset", "-c", ",".join(map(str, wanted))] if wanted else []


def wait_serving(port: int, attempts: int = 600, alive: Callable[[], bool] = lambda: True) -> None:
    """Until the gRPC server on `port` answers SERVING to grpc.health.v1 (0.1 s between tries); fails
    at once when `alive` says its process ended."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(attempts):
            if not alive():
                raise RuntimeError(f"the service of port {port} exited before serving")
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"service on {port} never became SERVING")


def start_edge(
    work: Path,
    name: str,
    descriptor_set: Path,
    upstreams: list[str],
    *,
    issuer: str,
    keys: Path,
    concurrency: int | None = None,
    extra: list[str] | None = None,
) -> envoy.RunningEnvoy:
    """An Envoy generated by devinsider-gateway-config for `upstreams` (PKG.SERVICE=HOST:PORT,...)."""
    port, admin = free_port(), free_port()
    config = work / f"{name}.yaml"
    cli.main(
        [
            *("--descriptor-set", str(descriptor_set), "--out", str(config), "--no-docs"),
            *(arg for upstream in upstreams for arg in ("--upstream", upstream)),
            *("--port", str(port), "--admin-port", str(admin), "--listen-address", "127.0.0.1"),
            *("--jwt-issuer", issuer, "--jwks-file", str(keys / "jwks.json")),
            *(extra or []),
        ]
    )
    return envoy.start(config, port, admin, work / f"{name}.log", concurrency=concurrency)


@dataclass
class EchoCeiling:
    """The echo backend (direct gRPC on `port`) and an Envoy in front of it (`edge`)."""

    port: int
    edge: envoy.RunningEnvoy
    descriptor_set: Path

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def echo_ceiling(
    work: Path, *, issuer: str, keys: Path, concurrency: int | None = None, cores: Iterable[int] = ()
) -> Iterator[EchoCeiling]:
    """The echo backend on `cores` (those of the services), its Envoy where this process runs."""
    descriptor_set = envoy.compile_descriptor_set(
        ["edgetest/v1/echo.proto"], [ROOT / "tests" / "edge" / "protos", ROOT / "protos"], work / "echo.binpb"
    )
    port = free_port()
    command = [*taskset(cores), sys.executable, "-m", "bench.echo_backend", str(descriptor_set), str(port)]
    backend = subprocess.Popen(command, cwd=ROOT)  # noqa: S603 - our own module, no shell
    try:
        wait_serving(port, alive=lambda: backend.poll() is None)
        edge = start_edge(
            work,
            "echo-edge",
            descriptor_set,
            [f"{ECHO}=127.0.0.1:{port}"],
            issuer=issuer,
            keys=keys,
            concurrency=concurrency,
        )
        try:
            yield EchoCeiling(port, edge, descriptor_set)
        finally:
            edge.stop()
    finally:
        stop_process(backend)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pin(pid: int, cpus: set[int]) -> None:
    """Run every thread of process `pid` on `cpus` (threads it starts later inherit the mask)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(ProcessLookupError):  # a thread that just ended
            os.sched_setaffinity(int(task.name), cpus)


def core_split() -> tuple[set[int], set[int]] | None:
    """(cores of the system under test, cores of the load generator and the edge): half and half,
    or None on a single core."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    half = len(cores) // 2
    return set(cores[half:]), set(cores[:half])

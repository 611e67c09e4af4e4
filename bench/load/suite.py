"""The six services as subprocesses (as scripts/run_local.py starts them) on a fresh PostgreSQL schema
each and one Redis key prefix, plus extra replicas of one service; all stopped, dropped and deleted
at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench.common import wait_serving
from devinsider_common.db.engine import create_service_engine, drop_schema
from devinsider_common.testing.services import SUITE_SERVICES
from devinsider_gateway.testing import envoy

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SERVICES = SUITE_SERVICES


@dataclass
class Suite:
    ports: dict[str, list[int]]  # service -> replica ports (the first is the primary)
    schemas: dict[str, str]
    redis_prefix: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def upstreams(self, replicas: dict[str, int] | None = None) -> list[str]:
        """`PKG.SERVICE=HOST:PORT,...` for the gateway, with `replicas[name]` replicas of a service (default 1)."""
        wanted = replicas or {}
        return [
            f"{full}=" + ",".join(f"127.0.0.1:{p}" for p in self.ports[name][: wanted.get(name, 1)])
            for name, full in SERVICES.items()
        ]

    def grpc_target(self, name: str, replicas: int = 1) -> str:
        """A gRPC target for `name`'s replicas (round robin over several)."""
        ports = self.ports[name][:replicas]
        if len(ports) == 1:
            return f"127.0.0.1:{ports[0]}"
        return "ipv4:" + ",".join(f"127.0.0.1:{p}" for p in ports)


def _cleanup_redis(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


@contextmanager
def running_suite(work: Path, *, issuer: str, keys: Path, replicas: dict[str, int]) -> Iterator[Suite]:
    """Every service (and `replicas[name] - 1` more of some), SERVING when yielded."""
    tag = uuid.uuid4().hex[:8]
    schemas = {name: f"bench_{name}_{tag}" for name in SERVICES}
    prefix = f"bench-load-{tag}:"
    ports = {name: [envoy.free_port() for _ in range(replicas.get(name, 1))] for name in SERVICES}
    suite = Suite(ports, schemas, prefix)
    targets = {f"{name.upper()}_TARGET": f"127.0.0.1:{p[0]}" for name, p in ports.items()}
    admin = create_service_engine(POSTGRES_URL, "public")
    with ExitStack() as stack:
        stack.callback(admin.dispose)
        for schema in schemas.values():
            stack.callback(drop_schema, admin, schema)
        stack.callback(_cleanup_redis, prefix)
        # Primaries first (each migrates its schema), then the extra replicas on the migrated schemas.
        for wave in (0, 1):
            started: list[int] = []
            for name, service_ports in ports.items():
                for index, port in enumerate(service_ports):
                    if (index > 0) != bool(wave):
                        continue
                    env = os.environ | targets
                    env |= {
                        "GRPC_PORT": str(port),
                        "DATABASE_URL": POSTGRES_URL,
                        "DATABASE_SCHEMA": schemas[name],
                        "REDIS_URL": REDIS_URL,
                        "REDIS_KEY_PREFIX": prefix,
                        "AUTH_ISSUER": issuer,
                        "AUTH_DEV_KEY_DIR": str(keys),
                        "LOG_LEVEL": "WARNING",
                        "LOG_JSON": "true",
                        "METRICS_PORT": "0",
                        "UPLOAD_DIR": str(work / "uploads"),
                        "SHUTDOWN_GRACE_SECONDS": "1",
                    }
                    log = (work / f"{name}-{index}.log").open("wb")
                    stack.callback(log.close)
                    process = subprocess.Popen(  # noqa: S603 - our own module, no shell
                        [sys.executable, "-m", f"{name}_service.main"], env=env, stdout=log, stderr=subprocess.STDOUT
                    )
                    suite.processes.append(process)
                    stack.callback(_stop, process)
                    started.append(port)
            for port in started:
                wait_serving(port)
        yield suite


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""Every service of the suite (SUITE_SERVICES) as a subprocess (as scripts/run_local.py starts them) on
a fresh PostgreSQL schema each, one Redis key prefix and one fresh RabbitMQ vhost, plus extra replicas of
one service.

The storage (`suite_storage`) outlives the processes (`start_services`), so a bench can stop the
services and start them again on the same data (through another DATABASE_URL, say); schemas, keys and
the vhost are dropped and deleted at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import redis

from bench.common import ROOT, free_port, stop_process, taskset, wait_serving
from devinsider_common.db.engine import create_service_engine, drop_schema
from devinsider_common.testing import infra
from devinsider_common.testing.services import SUITE_SERVICES

SERVICES = SUITE_SERVICES


@dataclass(frozen=True)
class Storage:
    """Where the suite keeps its data: a schema per service, a Redis key prefix, a RabbitMQ vhost."""

    schemas: dict[str, str]
    redis_prefix: str
    amqp_url: str


@dataclass
class Suite:
    ports: dict[str, list[int]]  # service -> replica ports (the first is the primary)
    storage: Storage
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)  # service -> its primary's process (a supervisor)

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
    client = redis.Redis.from_url(infra.REDIS_URL)
    try:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


@contextmanager
def suite_storage() -> Iterator[Storage]:
    """Fresh names (each service migrates its own schema when it starts) and a fresh vhost, as the tests
    isolate theirs (devinsider_common.testing.fixtures.amqp_url); all dropped and deleted afterwards."""
    tag = uuid.uuid4().hex[:8]
    schemas = {name: f"bench_{name}_{tag}" for name in SERVICES}
    vhost = f"bench_{tag}"
    admin = create_service_engine(infra.POSTGRES_URL, "public")
    with ExitStack() as stack:
        stack.callback(admin.dispose)
        for schema in schemas.values():
            stack.callback(drop_schema, admin, schema)
        stack.callback(_cleanup_redis, f"bench-{tag}:")
        infra.rabbitmqctl("add_vhost", vhost)
        stack.callback(infra.rabbitmqctl, "delete_vhost", vhost)
        infra.rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        amqp_url = f"amqp://guest:guest@{infra.AMQP_HOST}:{infra.AMQP_PORT}/{quote(vhost, safe='')}"
        yield Storage(schemas, f"bench-{tag}:", amqp_url)


@contextmanager
def start_services(
    work: Path,
    storage: Storage,
    *,
    issuer: str,
    keys: Path,
    replicas: dict[str, int] | None = None,
    database_urls: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    cores: Iterable[int] = (),
) -> Iterator[Suite]:
    """Every service (and `replicas[name] - 1` more of some) on `storage`, SERVING when yielded, stopped
    after. `database_urls[name]` replaces the PostgreSQL URL of a service; `env` is added to every
    service's environment; `cores`: where they run (all when empty)."""
    wanted = replicas or {}
    ports = {name: [free_port() for _ in range(wanted.get(name, 1))] for name in SERVICES}
    suite = Suite(ports, storage)
    targets = {f"{name.upper()}_TARGET": f"127.0.0.1:{p[0]}" for name, p in ports.items()}
    with ExitStack() as stack:
        # Primaries first (each migrates its schema), then the extra replicas on the migrated schemas.
        for wave in (0, 1):
            started: list[tuple[int, subprocess.Popen[bytes], Path]] = []
            for name, service_ports in ports.items():
                for index, port in enumerate(service_ports):
                    if (index > 0) != bool(wave):
                        continue
                    own = {
                        "GRPC_PORT": str(port),
                        "DATABASE_URL": (database_urls or {}).get(name, infra.POSTGRES_URL),
                        "DATABASE_SCHEMA": storage.schemas[name],
                        "REDIS_URL": infra.REDIS_URL,
                        "REDIS_KEY_PREFIX": storage.redis_prefix,
                        "AMQP_URL": storage.amqp_url,
                        "AUTH_ISSUER": issuer,
                        "AUTH_DEV_KEY_DIR": str(keys),
                        "LOG_LEVEL": "WARNING",
                        "LOG_JSON": "true",
                        "METRICS_PORT": "0",
                        "UPLOAD_DIR": str(work / "uploads"),
                        "SHUTDOWN_GRACE_SECONDS": "1",
                        "SHUTDOWN_DELAY_SECONDS": "0",
                    }
                    log_path = work / f"{name}-{index}.log"
                    log = log_path.open("ab")  # a restart appends
                    stack.callback(log.close)
                    process = subprocess.Popen(  # noqa: S603 - our own module, no shell
                        [*taskset(cores), sys.executable, "-m", f"{name}_service.main"],
                        env=os.environ | targets | own | (env or {}),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        cwd=ROOT,
                    )
                    suite.processes.append(process)
                    suite.pids.setdefault(name, process.pid)
                    stack.callback(stop_process, process)
                    started.append((port, process, log_path))
            for port, process, log_path in started:
                try:
                    wait_serving(port, alive=_running(process))
                except RuntimeError as error:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{error}; its log ends with:\n{tail}") from None
        yield suite


def _running(process: subprocess.Popen[bytes]) -> Callable[[], bool]:
    return lambda: process.poll() is None


@contextmanager
def running_suite(
    work: Path, *, issuer: str, keys: Path, replicas: dict[str, int], env: dict[str, str] | None = None
) -> Iterator[Suite]:
    """Fresh storage and every service on it (see `start_services`)."""
    with (
        suite_storage() as storage,
        start_services(work, storage, issuer=issuer, keys=keys, replicas=replicas, env=env) as suite,
    ):
        yield suite

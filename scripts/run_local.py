"""Run the whole suite locally (README command 1): every service as its own process.

Embedded defaults: a SQLite file per service under ./var, in-process cache and locks, events
kept in each service's outbox (relayed once AMQP_URL is set), the dev token issuer. Set
DATABASE_URL / REDIS_URL / AMQP_URL to use PostgreSQL, Redis and RabbitMQ instead.
Stops every service on Ctrl-C / SIGTERM, and everything when one service dies.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


@dataclass(frozen=True)
class LocalService:
    name: str
    module: str
    port_offset: int


# Every service of the suite; a new service adds one line here.
SERVICES = [LocalService("user", "user_service.main", 1)]


def _pump(name: str, stream: object) -> None:
    for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
        sys.stdout.write(f"{name:>8} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def _serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def _usage(ports: dict[str, int]) -> str:
    user_port = ports["user"]
    return f"""
DevInsider services are running: {", ".join(f"{n} on 127.0.0.1:{p}" for n, p in ports.items())}
Call them with a dev token and the typed stubs:

  TOKEN=$(.venv/bin/devinsider-dev-token --sub alice --role isv --email alice@example.com --name "Alice Martin")
  .venv/bin/python -c "
import grpc, sys
from devinsider.user.v1 import user_pb2, user_pb2_grpc
stub = user_pb2_grpc.UserServiceStub(grpc.insecure_channel('127.0.0.1:{user_port}'))
print(stub.GetMe(user_pb2.GetMeRequest(), metadata=[('authorization', 'Bearer $TOKEN')]))"

Ctrl-C stops everything.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port-base", type=int, default=int(os.environ.get("PORT_BASE", "50050")))
    parser.add_argument("--log-json", action="store_true", help="JSON logs instead of console lines")
    args = parser.parse_args()
    stopping = threading.Event()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    ports = {s.name: args.port_base + s.port_offset for s in SERVICES}

    def stop(signum: int, _: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for service in SERVICES:
        env = os.environ | {"GRPC_PORT": str(ports[service.name]), "LOG_JSON": str(args.log_json).lower()}
        process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            [sys.executable, "-m", service.module], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        processes[service.name] = process
        threading.Thread(target=_pump, args=(service.name, process.stdout), daemon=True).start()
    deadline = time.monotonic() + 120
    while not stopping.is_set() and not all(_serving(p) for p in ports.values()):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes.values()):
            print("a service failed to start; stopping", file=sys.stderr)
            stopping.set()
            break
        time.sleep(0.3)
    else:
        print(_usage(ports), flush=True)
    exit_code = 0
    while not stopping.wait(0.5):
        if dead := [n for n, p in processes.items() if p.poll() is not None]:
            print(f"service(s) {', '.join(dead)} stopped; stopping the suite", file=sys.stderr)
            exit_code = 1
            break
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

"""The compose stack under test: docker-compose.yml run for real, as users run it (`make compose-test`).

`ComposeStack` drives one compose project (its own name, env file, volumes) and offers the journeys'
interface (tests/e2e/suite_stack.EdgeStack): REST through the edge container's published port, tokens
signed with the dev key pair the services made on their volume, the seed queues read from the stack's
RabbitMQ. The host reaches every container on the compose network by its address (Linux bridge), so
typed gRPC stubs talk to each replica directly.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from devinsider_common.auth.dev_issuer import PRIVATE_KEY_FILE, ensure_dev_keys
from devinsider_gateway.testing.http import Response

from ..e2e.suite_stack import KEYCLOAK_WEBHOOK_SECRET, PAYMENT_WEBHOOK_SECRET, Broker, dev_token, rest_call

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("user", "company", "investor", "program", "matching", "billing", "contact", "notification")
# The dev issuer the compose services and the edge image default to (AUTH_ISSUER, JWT_ISSUER).
ISSUER = "http://localhost/devinsider-dev"
# Where the local payment provider listens in the billing container (docker-compose.yml).
PROVIDER_PORT = 8090
OFFLINE_ENV = ROOT / "deploy" / "docker" / "offline.env"
SECRET_NAMES = (
    "POSTGRES_PASSWORD",
    "RABBITMQ_PASSWORD",
    *(f"{name.upper()}_PAGE_TOKEN_SECRET" for name in APP_SERVICES),
    "PAYMENT_PROVIDER_API_KEY",
)


def env_file(path: Path, edge_port: int, offline: bool) -> dict[str, str]:
    """A fresh .env for the stack: random secrets, the webhook secrets the journeys sign with, the
    edge's host port, and the offline images when asked. Returns the values."""
    values = {name: secrets.token_hex(16) for name in SECRET_NAMES}
    values |= {
        "KEYCLOAK_WEBHOOK_SECRET": KEYCLOAK_WEBHOOK_SECRET,
        "PAYMENT_WEBHOOK_SECRET": PAYMENT_WEBHOOK_SECRET,
        "EDGE_PORT": str(edge_port),
    }
    if offline:
        for line in OFFLINE_ENV.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                values[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()), encoding="utf-8")
    return values


@dataclass
class Compose:
    """`docker-compose -p <project> --env-file <file>` in the repository root."""

    project: str
    env: Path

    def run(self, *args: str, timeout: float = 600.0) -> str:
        command = ["docker-compose", "--project-name", self.project, "--env-file", str(self.env), *args]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def containers(self, service: str) -> list[str]:
        """The ids of `service`'s containers, running or not."""
        return self.run("ps", "-q", service).split()

    def inspect(self, container: str) -> dict[str, Any]:
        out = subprocess.run(
            ["docker", "inspect", container], capture_output=True, text=True, check=True, timeout=30
        ).stdout
        document: dict[str, Any] = json.loads(out)[0]
        return document

    def address(self, container: str) -> str:
        """The container's address on the compose network."""
        networks = self.inspect(container)["NetworkSettings"]["Networks"]
        return str(next(iter(networks.values()))["IPAddress"])

    def health(self, container: str) -> str:
        state = self.inspect(container)["State"]
        return str(state.get("Health", {}).get("Status", state["Status"]))

    def wait_healthy(self, services: tuple[str, ...], timeout: float = 300.0) -> None:
        """Waits until every container of `services` is healthy (fails at once on an unhealthy one)."""
        start = time.monotonic()
        ready: set[str] = set()
        while True:
            pending = []
            for service in services:
                if service in ready:
                    continue
                states = [self.health(c) for c in self.containers(service)]
                if "unhealthy" in states or "exited" in states:
                    raise RuntimeError(f"{service} is {states}:\n{self.run('logs', '--tail', '30', service)}")
                if states and all(state == "healthy" for state in states):
                    ready.add(service)
                else:
                    pending.append(service)
            if not pending:
                return
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"not healthy after {timeout:.0f} s: {pending}\n{self.run('ps')}")
            time.sleep(1.0)

    def read_file(self, service: str, path: str) -> bytes:
        command = ["docker-compose", "--project-name", self.project, "--env-file", str(self.env)]
        return subprocess.run(
            [*command, "exec", "-T", service, "cat", path], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout


@dataclass
class ComposeStack:
    """The running compose project, seen as the journeys see a suite (tests/e2e/suite_stack.EdgeStack)."""

    compose: Compose
    edge_port: int
    keys: Path
    broker: Broker
    provider_api_key: str

    @classmethod
    def attach(cls, compose: Compose, edge_port: int, values: dict[str, str], workdir: Path) -> ComposeStack:
        """The stack's dev key pair (made by the services on their volume) and its broker, from the host."""
        keys = workdir / "keys"
        keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        (keys / PRIVATE_KEY_FILE).write_bytes(compose.read_file("user", f"/app/var/dev-keys/{PRIVATE_KEY_FILE}"))
        ensure_dev_keys(keys)
        rabbitmq = compose.address(compose.containers("rabbitmq")[0])
        broker = Broker(f"amqp://devinsider:{values['RABBITMQ_PASSWORD']}@{rabbitmq}:5672/%2F")
        broker.declare()
        return cls(compose, edge_port, keys, broker, values["PAYMENT_PROVIDER_API_KEY"])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.edge_port}{path}"

    def token(self, subject: str, roles: tuple[str, ...] = ("isv",), email: str = "") -> str:
        return dev_token(self.keys, ISSUER, subject, roles, email)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Response:
        return rest_call(self.url(path), method, body, token)

    def buyer_url(self, url: str) -> str:
        """The provider's page on the billing container's address (it names itself 0.0.0.0:8090 inside)."""
        parts = urlsplit(url)
        billing = self.compose.address(self.compose.containers("billing")[0])
        return urlunsplit(parts._replace(netloc=f"{billing}:{PROVIDER_PORT}"))

    def targets(self, service: str, port: int) -> list[str]:
        """`address:port` of every running replica of `service`."""
        running = [c for c in self.compose.containers(service) if self.compose.inspect(c)["State"]["Running"]]
        return [f"{self.compose.address(c)}:{port}" for c in running]


def project_name() -> str:
    return os.environ.get("COMPOSE_TEST_PROJECT", "devinsider-compose-test")

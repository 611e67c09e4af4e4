"""A real user service (in process, SQLite) behind a real Envoy generated from gen/devinsider.binpb."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devinsider_common.auth.dev_issuer import ensure_dev_keys, issue_token
from devinsider_common.settings import AuthSettings, BrokerSettings
from devinsider_gateway import cli
from devinsider_gateway.testing import envoy
from user_service.bootstrap import UserService, start
from user_service.settings import UserSettings

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "http://localhost/devinsider-e2e"
WEBHOOK_SECRET = "e2e-webhook-secret"


@dataclass
class Stack:
    envoy: envoy.RunningEnvoy
    user: UserService
    token: Callable[..., str]

    def url(self, path: str) -> str:
        return self.envoy.url(path)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("e2e")
    keys = workdir / "keys"
    ensure_dev_keys(keys)
    settings = UserSettings(
        grpc_port=0,
        database_url=f"sqlite+pysqlite:///{workdir / 'user.sqlite3'}",
        database_schema="user",
        keycloak_webhook_secret=WEBHOOK_SECRET,
        access_cache_ttl_seconds=0.0,
        health_check_interval_seconds=0.2,
        shutdown_grace_seconds=1.0,
        auth=AuthSettings(issuer=ISSUER, dev_key_dir=keys),
        broker=BrokerSettings(amqp_url=""),
    )
    user = start(settings)
    port, admin = envoy.free_port(), envoy.free_port()
    config = workdir / "envoy.yaml"
    cli.main(
        [
            *("--descriptor-set", str(ROOT / "gen" / "devinsider.binpb"), "--out", str(config)),
            *("--upstream", f"devinsider.user.v1.UserService=127.0.0.1:{user.port}"),
            *("--port", str(port), "--admin-port", str(admin), "--listen-address", "127.0.0.1"),
            *("--jwt-issuer", ISSUER, "--jwks-file", str(keys / "jwks.json"), "--health-check-interval", "0.3"),
        ]
    )
    try:
        running = envoy.start(config, port, admin, workdir / "envoy.log")
    except Exception:
        user.stop(grace=0)
        raise

    def token(subject: str, roles: tuple[str, ...] = ("isv",), **claims: str) -> str:
        return issue_token(keys, ISSUER, subject, roles=roles, email=f"{subject}@example.com", **claims)  # type: ignore[arg-type]

    yield Stack(running, user, token)
    running.stop()
    user.stop(grace=0)


# The page services (user, company, investor, program) behind one Envoy on real PostgreSQL, Redis and
# RabbitMQ: the module-scoped `suite_stack` fixture of tests/e2e/suite_stack.py.
from .suite_stack import suite_stack  # noqa: E402, F401

"""Fixtures of the user service's transport tests: a real server on PostgreSQL, dev tokens, typed stubs.

The rules themselves are tested without I/O (tests/unit, on tests/fakes.py); the repositories'
contract on both databases (tests/adapters). A test module shares one server (`service`, on its own
schema): its tests keep apart by naming their own callers (`Names`). A test that needs a service
of its own settings starts it with `make_settings(workdir, ...)`, whose keys `token` signs with.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from devinsider.user.v1 import user_pb2_grpc
from devinsider_common.testing.services import TEST_ISSUER, base_settings
from devinsider_common.testing.services import bearer as bearer  # re-exported for the test modules
from devinsider_common.testing.tokens import TokenFactory
from user_service.bootstrap import UserService, start
from user_service.settings import UserSettings

from .fakes import WEBHOOK_SECRET

ISSUER = TEST_ISSUER


def make_settings(workdir: Path, database_url: str, schema: str, **overrides: object) -> UserSettings:
    values = base_settings(workdir, database_url, schema) | {
        "keycloak_webhook_secret": WEBHOOK_SECRET,
        "access_cache_ttl_seconds": 0.0,
    }
    values.update(overrides)
    return UserSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's directory: dev keys (under keys/) and SQLite files."""
    return tmp_path_factory.mktemp("user")


@pytest.fixture(scope="module")
def token(workdir: Path) -> TokenFactory:
    """`token(sub, roles=..., email=...)`: a dev token the services of `make_settings(workdir, ...)` accept."""
    return TokenFactory(workdir / "keys")


@pytest.fixture(scope="module")
def settings(workdir: Path, module_pg_schema: tuple[str, str]) -> UserSettings:
    return make_settings(workdir, *module_pg_schema)


@pytest.fixture(scope="module")
def service(settings: UserSettings) -> Iterator[UserService]:
    running = start(settings)
    yield running
    running.stop(grace=0)


@pytest.fixture(scope="module")
def channel(service: UserService) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as chan:
        yield chan


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> user_pb2_grpc.UserServiceStub:
    return user_pb2_grpc.UserServiceStub(channel)


class Names:
    """Subjects and an e-mail domain of one test, so the tests sharing a server never meet."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:10]
        self.domain = f"{self.tag}.example"

    def subject(self, who: str) -> str:
        return f"kc-{who}-{self.tag}"

    def email(self, who: str) -> str:
        return f"{who}@{self.domain}"


@pytest.fixture
def names() -> Names:
    return Names()

"""Fixtures of the user service tests: a real server on PostgreSQL or SQLite, dev tokens, typed stubs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from devinsider.user.v1 import user_pb2_grpc
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.testing.services import TEST_ISSUER, base_settings
from devinsider_common.testing.services import bearer as bearer  # re-exported for the test modules
from user_service.bootstrap import UserService, start
from user_service.settings import UserSettings

ISSUER = TEST_ISSUER
WEBHOOK_SECRET = "test-webhook-secret"

TokenFactory = Callable[..., str]


def make_settings(tmp_path: Path, database_url: str, schema: str, **overrides: object) -> UserSettings:
    values = base_settings(tmp_path, database_url, schema) | {
        "keycloak_webhook_secret": WEBHOOK_SECRET,
        "access_cache_ttl_seconds": 0.0,
    }
    values.update(overrides)
    return UserSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database: tuple[str, str]) -> UserSettings:
    return make_settings(tmp_path, *database)


@pytest.fixture
def service(settings: UserSettings) -> Iterator[UserService]:
    running = start(settings)
    yield running
    running.stop(grace=0)


@pytest.fixture
def channel(service: UserService) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as chan:
        yield chan


@pytest.fixture
def stub(channel: grpc.Channel) -> user_pb2_grpc.UserServiceStub:
    return user_pb2_grpc.UserServiceStub(channel)


@pytest.fixture
def token(tmp_path: Path) -> TokenFactory:
    """`token(sub, roles=..., email=...)`: a dev token the service under test accepts
    (same dev key directory as `make_settings(tmp_path, ...)`)."""

    def make(subject: str, roles: tuple[str, ...] = ("isv",), email: str = "", **claims: object) -> str:
        return issue_token(
            tmp_path / "keys",
            ISSUER,
            subject,
            roles=roles,
            email=email or f"{subject}@example.com",
            given_name=str(claims.pop("given_name", "Ada")),
            family_name=str(claims.pop("family_name", "Lovelace")),
            ttl_seconds=int(claims.pop("ttl_seconds", 600)),  # type: ignore[call-overload]
            extra_claims=dict(claims) or None,
        )

    return make

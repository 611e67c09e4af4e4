"""Reaching the real PostgreSQL, Redis and RabbitMQ from tests, each test isolated.

Under CI=true an unreachable server fails the test run; elsewhere the tests that need it skip
with the reason, so a laptop without RabbitMQ can still run the rest.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterable
from contextlib import ExitStack
from urllib.parse import quote

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_HOST = os.environ.get("TEST_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("TEST_AMQP_PORT", "5672"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(host: str, port: int, what: str) -> None:
    """Fail (CI) or skip (elsewhere) when a real server the test needs is down."""
    if port_open(host, port):
        return
    message = f"{what} is not reachable at {host}:{port}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: infrastructure must be up)")
    pytest.skip(message)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def rabbitmqctl(*args: str) -> None:
    executable = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([executable, *args], check=True, capture_output=True, timeout=60)  # noqa: S603 - fixed tool


def isolated_schemas(stack: ExitStack, names: Iterable[str], tag: str) -> dict[str, str]:
    """A fresh PostgreSQL schema per name (`{tag}_{name}_...`), each dropped when `stack` closes."""
    from devinsider_common.db.engine import create_service_engine, drop_schema, ensure_schema

    admin = create_service_engine(POSTGRES_URL, "public")
    stack.callback(admin.dispose)
    schemas = {name: unique_name(f"{tag}_{name}") for name in names}
    for schema in schemas.values():
        ensure_schema(admin, schema)
        stack.callback(drop_schema, admin, schema)
    return schemas


def isolated_redis_prefix(stack: ExitStack, tag: str) -> str:
    """A fresh Redis key prefix; every key under it is deleted when `stack` closes."""
    import redis

    prefix = unique_name(tag)

    def delete_keys() -> None:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
        finally:
            client.close()

    stack.callback(delete_keys)
    return prefix


def isolated_vhost(stack: ExitStack, tag: str) -> tuple[str, str]:
    """(vhost, AMQP URL of it): a fresh RabbitMQ vhost guest may use, deleted when `stack` closes."""
    vhost = unique_name(tag)
    rabbitmqctl("add_vhost", vhost)
    stack.callback(rabbitmqctl, "delete_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    return vhost, f"amqp://guest:guest@{AMQP_HOST}:{AMQP_PORT}/{quote(vhost, safe='')}"

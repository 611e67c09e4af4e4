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

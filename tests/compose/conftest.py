"""One compose project for the whole session: `docker-compose up -d` on fresh volumes, every container healthy,
then the tests, then the logs (var/compose-test/compose.log) and `docker-compose down -v`.

Collected only under `make compose-test` (COMPOSE_TEST=1, see the root conftest), which builds the images
first. COMPOSE_TEST_OFFLINE=0 uses the registry images of docker-compose.yml instead of deploy/docker/offline.env.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devinsider_gateway.testing import envoy

from .stack import APP_SERVICES, ROOT, Compose, ComposeStack, env_file, project_name

WORKDIR = ROOT / "var" / "compose-test"
FIGURES = WORKDIR / "figures.json"


def record(**figures: object) -> None:
    """Adds figures (start time, failed requests...) to var/compose-test/figures.json, for the notes."""
    known = json.loads(FIGURES.read_text(encoding="utf-8")) if FIGURES.exists() else {}
    FIGURES.write_text(json.dumps(known | figures, indent=2), encoding="utf-8")


@pytest.fixture(scope="session")
def compose_stack() -> Iterator[ComposeStack]:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    FIGURES.unlink(missing_ok=True)
    edge_port = envoy.free_port()
    compose = Compose(project_name(), WORKDIR / ".env")
    values = env_file(compose.env, edge_port, offline=os.environ.get("COMPOSE_TEST_OFFLINE", "1") == "1")
    compose.run("down", "--volumes", "--remove-orphans")  # a project an interrupted run left behind
    started = time.monotonic()
    try:
        # `up` itself waits for the health conditions of depends_on (infrastructure, then services, then edge).
        compose.run("up", "--detach", "--no-build")
        compose.wait_healthy(("postgres", "redis", "rabbitmq", *APP_SERVICES, "edge"))
        record(start_seconds=round(time.monotonic() - started, 1))
        yield ComposeStack.attach(compose, edge_port, values, WORKDIR)
    finally:
        (WORKDIR / "compose.log").write_text(compose.run("logs", "--no-color", "--timestamps"), encoding="utf-8")
        compose.run("down", "--volumes", "--remove-orphans")


@pytest.fixture(scope="session")
def suite_stack(compose_stack: ComposeStack) -> ComposeStack:
    """The journeys of tests/e2e take `suite_stack`: here it is the compose stack."""
    return compose_stack


@pytest.fixture(scope="session")
def workdir() -> Path:
    return WORKDIR

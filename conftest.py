"""Root conftest: the shared fixtures (real PostgreSQL schema, Redis prefix, RabbitMQ vhost)."""

import os

pytest_plugins = ["devinsider_common.testing.fixtures"]

# tests/compose runs the docker-compose stack: only under `make compose-test` (scripts/compose_test.sh), which
# installs Docker and builds the images first; `make test` leaves it out rather than skip it.
collect_ignore = [] if os.environ.get("COMPOSE_TEST") == "1" else ["tests/compose"]

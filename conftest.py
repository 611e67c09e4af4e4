"""Root conftest: the shared fixtures (real PostgreSQL schema, Redis prefix, RabbitMQ vhost)."""

pytest_plugins = ["devinsider_common.testing.fixtures"]

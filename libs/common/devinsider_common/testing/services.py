"""What every service's tests build the same way: settings for an in-process server on a test
database, the dev issuer of the tests, bearer metadata."""

from __future__ import annotations

from pathlib import Path

from devinsider_common.settings import AuthSettings, BrokerSettings

TEST_ISSUER = "http://localhost/devinsider-test"

Metadata = tuple[tuple[str, str], ...]


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


def base_settings(tmp_path: Path, database_url: str, schema: str) -> dict[str, object]:
    """Settings values for a service under test: any free port, the given database, fast health
    probes, dev tokens from `tmp_path/keys` under TEST_ISSUER, no broker (events stay stored)."""
    return {
        "grpc_port": 0,
        "database_url": database_url,
        "database_schema": schema,
        "health_check_interval_seconds": 0.2,
        "shutdown_grace_seconds": 5.0,
        "auth": AuthSettings(issuer=TEST_ISSUER, dev_key_dir=tmp_path / "keys"),
        "broker": BrokerSettings(amqp_url=""),
    }

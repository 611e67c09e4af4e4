"""What every service's tests build the same way: settings for an in-process server on a test
database, the dev issuer of the tests, bearer metadata."""

from __future__ import annotations

from pathlib import Path

from devinsider_common.settings import AuthSettings, BrokerSettings

TEST_ISSUER = "http://localhost/devinsider-test"

# The six services of the suite: short name -> full proto service name (for stacks and benches).
SUITE_SERVICES = {
    "user": "devinsider.user.v1.UserService",
    "company": "devinsider.company.v1.CompanyService",
    "investor": "devinsider.investor.v1.InvestorService",
    "program": "devinsider.program.v1.ProgramService",
    "matching": "devinsider.matching.v1.MatchingService",
    "billing": "devinsider.billing.v1.BillingService",
    "contact": "devinsider.contact.v1.ContactService",
    "notification": "devinsider.notification.v1.NotificationService",
}

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
        "user_target": "",  # no user service: nobody refused (a test that wants one sets its address)
        "billing_target": "",  # no billing: no plan limits (a test that wants them sets its address)
    }

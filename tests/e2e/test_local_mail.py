"""The README's invitation walk-through on `make run`'s embedded defaults, through a real Envoy.

No RabbitMQ: the user and company services run in process on SQLite files, their events stay in the
outbox, and mail goes to the local mail sink (`MAIL_SINK_DIR`), as under `make run`. The invitee
reads the accept link from the `.eml` file, as the README tells a person to. The same stack shows
the invitation and support-request rate limits (429 with RetryInfo) and the verified-e-mail rule.
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from company_service.bootstrap import start as start_company
from company_service.settings import CompanySettings
from devinsider_common.auth.dev_issuer import ensure_dev_keys, issue_token
from devinsider_common.settings import AuthSettings, BrokerSettings
from devinsider_common.testing.polling import wait_for
from devinsider_gateway import cli
from devinsider_gateway.testing import envoy
from devinsider_gateway.testing.http import Response, request
from user_service.bootstrap import start as start_user
from user_service.settings import UserSettings

from .suite_stack import ROOT, status_of, unique

ISSUER = "http://localhost/devinsider-e2e-local"
INVITATIONS_PER_PAGE = 3
SUPPORT_REQUESTS_PER_USER = 2


@dataclass
class LocalStack:
    edge: envoy.RunningEnvoy
    keys: Path
    mail: Path

    def token(self, subject: str, *, verified: bool = True) -> str:
        claims = None if verified else {"email_verified": False}
        email = f"{subject}@example.com"
        return issue_token(self.keys, ISSUER, subject, ("isv",), email=email, given_name="Tess", extra_claims=claims)

    def call(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Response:
        return request(method, self.edge.url(path), body, {"authorization": f"Bearer {token}"})

    def ok(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.call(method, path, token, body)
        assert response.status == 200, response.body
        return dict(response.json())

    def accept_link(self, email: str) -> str:
        """The README's steps: the newest company invitation mail to `email`, and its link."""

        def mails() -> list[Path]:
            found = sorted(self.mail.glob("*-company_invitation-*.eml"), key=lambda p: p.stat().st_mtime)
            return [p for p in found if f"To: {email}" in p.read_text()]

        assert wait_for(mails, timeout=15), f"no invitation mail to {email} in {self.mail}"
        message = BytesParser(policy=policy.default).parsebytes(mails()[-1].read_bytes())
        body = message.get_body(("plain",))  # rendered mails carry an HTML alternative too
        assert body is not None
        text: str = body.get_content()
        [link] = [line for line in text.splitlines() if line.startswith("http") and "token=" in line]
        return link


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    workdir = tmp_path_factory.mktemp("e2e-local")
    keys, mail = workdir / "keys", workdir / "var" / "mail"
    ensure_dev_keys(keys)
    shared: dict[str, Any] = {
        "grpc_port": 0,
        "health_check_interval_seconds": 0.2,
        "auth": AuthSettings(issuer=ISSUER, dev_key_dir=keys),
        "broker": BrokerSettings(amqp_url="", mail_sink_dir=str(mail), relay_interval_seconds=0.05),
    }
    user = start_user(
        UserSettings(
            **shared,
            database_url=f"sqlite+pysqlite:///{workdir / 'user.sqlite3'}",
            support_request_rate_limit=SUPPORT_REQUESTS_PER_USER,
        )
    )
    company = start_company(
        CompanySettings(
            **shared,
            database_url=f"sqlite+pysqlite:///{workdir / 'company.sqlite3'}",
            upload_dir=workdir / "uploads",
            user_target=f"127.0.0.1:{user.port}",
            invitation_rate_limit=INVITATIONS_PER_PAGE,
        )
    )
    port, admin = envoy.free_port(), envoy.free_port()
    config = workdir / "envoy.yaml"
    cli.main(
        [
            *("--descriptor-set", str(ROOT / "gen" / "devinsider.binpb"), "--out", str(config)),
            *("--upstream", f"devinsider.user.v1.UserService=127.0.0.1:{user.port}"),
            *("--upstream", f"devinsider.company.v1.CompanyService=127.0.0.1:{company.port}"),
            *("--port", str(port), "--admin-port", str(admin), "--listen-address", "127.0.0.1"),
            *("--jwt-issuer", ISSUER, "--jwks-file", str(keys / "jwks.json"), "--health-check-interval", "0.3"),
        ]
    )
    try:
        edge = envoy.start(config, port, admin, workdir / "envoy.log")
        try:
            yield LocalStack(edge, keys, mail)
        finally:
            edge.stop()
    finally:
        company.stop(grace=0)
        user.stop(grace=0)


def test_an_invitation_is_accepted_with_the_link_of_the_mail_written_locally(local: LocalStack) -> None:
    alice, bob_subject = local.token(unique("alice")), unique("bob")
    company = local.ok("POST", "/v1/companies", alice, {"displayName": "Acme Analytics"})["name"]
    email = f"{bob_subject}@example.com"
    sent = local.ok("POST", f"/v1/{company}/invitations", alice, {"email": email, "role": "PAGE_ROLE_EDITOR"})

    query = parse_qs(urlsplit(local.accept_link(email)).query)
    invitation, one_time = query["invitation"][0], query["token"][0]
    assert invitation == sent["name"]
    bob = local.token(bob_subject)
    accepted = local.ok("POST", f"/v1/{invitation}:accept", bob, {"token": one_time})
    assert accepted["state"] == "INVITATION_STATE_ACCEPTED"
    members = local.ok("GET", f"/v1/{company}/members", alice)["members"]
    assert [(m["subject"], m["role"]) for m in members if m["subject"] == bob_subject] == [
        (bob_subject, "PAGE_ROLE_EDITOR")
    ]


def test_an_unverified_email_cannot_accept(local: LocalStack) -> None:
    alice, eve_subject = local.token(unique("alice")), unique("eve")
    company = local.ok("POST", "/v1/companies", alice, {"displayName": "Acme Verified"})["name"]
    email = f"{eve_subject}@example.com"
    local.ok("POST", f"/v1/{company}/invitations", alice, {"email": email, "role": "PAGE_ROLE_VIEWER"})
    query = parse_qs(urlsplit(local.accept_link(email)).query)
    path, body = f"/v1/{query['invitation'][0]}:accept", {"token": query["token"][0]}

    refused = local.call("POST", path, local.token(eve_subject, verified=False), body)
    assert status_of(refused) == (400, 9, "EMAIL_NOT_VERIFIED"), refused.body
    assert local.ok("POST", path, local.token(eve_subject), body)["state"] == "INVITATION_STATE_ACCEPTED"


def _retry_delay(response: Response) -> str:
    [delay] = [d["retryDelay"] for d in response.json()["details"] if d["@type"].endswith("google.rpc.RetryInfo")]
    return str(delay)


def test_a_page_sends_a_limited_number_of_invitations(local: LocalStack) -> None:
    alice = local.token(unique("alice"))
    company = local.ok("POST", "/v1/companies", alice, {"displayName": "Acme Bulk"})["name"]
    for index in range(INVITATIONS_PER_PAGE):
        local.ok(
            "POST", f"/v1/{company}/invitations", alice, {"email": f"x{index}@example.com", "role": "PAGE_ROLE_VIEWER"}
        )
    refused = local.call(
        "POST", f"/v1/{company}/invitations", alice, {"email": "y@example.com", "role": "PAGE_ROLE_VIEWER"}
    )
    assert status_of(refused) == (429, 8, "INVITATIONS_RATE_LIMITED"), refused.body
    assert _retry_delay(refused).endswith("s")  # e.g. "3599.5s": when the oldest leaves the hour


def test_a_user_sends_a_limited_number_of_support_requests(local: LocalStack) -> None:
    carol = local.token(unique("carol"))
    body = {"subject": "Help", "message": "The dashboard is empty"}
    for _ in range(SUPPORT_REQUESTS_PER_USER):
        local.ok("POST", "/v1/supportRequests", carol, body)
    refused = local.call("POST", "/v1/supportRequests", carol, body)
    assert status_of(refused) == (429, 8, "SUPPORT_REQUESTS_RATE_LIMITED"), refused.body
    assert _retry_delay(refused).endswith("s")
    assert local.ok("POST", "/v1/supportRequests", local.token(unique("dave")), body)["subject"] == "Help"


def test_make_run_hands_every_service_the_mail_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAIL_SINK_DIR", raising=False)
    run_local = runpy.run_path(str(ROOT / "scripts" / "run_local.py"), run_name="run_local_under_test")
    env = run_local["service_env"](50051, {"USER_TARGET": "127.0.0.1:50051"}, False)
    assert (env["MAIL_SINK_DIR"], env["GRPC_PORT"], env["USER_TARGET"]) == ("var/mail", "50051", "127.0.0.1:50051")
    monkeypatch.setenv("MAIL_SINK_DIR", "")  # set empty: mail stays in the outbox, as before
    assert run_local["service_env"](50051, {}, False)["MAIL_SINK_DIR"] == ""


@pytest.mark.rabbitmq
def test_make_run_with_a_broker_writes_every_mail_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, amqp_url: str
) -> None:
    """With AMQP_URL the relays publish mail to RabbitMQ; run_local then consumes `local.mail-sink` into
    MAIL_SINK_DIR (devinsider_common.mail.local), so var/mail still holds every mail, rendered."""
    run_local = runpy.run_path(str(ROOT / "scripts" / "run_local.py"), run_name="run_local_under_test")
    monkeypatch.delenv("AMQP_URL", raising=False)
    assert run_local["start_local_mail"]() is None  # no broker: the services' relays write the files
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("MAIL_SINK_DIR", str(tmp_path / "mail"))
    assert "rendered from its templates (queue local.mail-sink)" in run_local["_mail_note"]()
    consumer = run_local["start_local_mail"]()
    try:
        assert consumer is not None and consumer.consumer.connected.wait(10)
    finally:
        consumer.stop()

"""Fixtures of the investor service tests: a real server on PostgreSQL or SQLite, dev tokens, typed
stubs, and helpers that build pages with members through the API itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import grpc
import pytest
from sqlalchemy import Engine, select

from devinsider.common.v1 import mail_pb2, page_pb2
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider_common.auth.dev_issuer import issue_token
from devinsider_common.grpc.status import error_info, field_violations, from_rpc_error
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.testing.services import TEST_ISSUER, base_settings
from devinsider_common.testing.services import bearer as bearer  # re-exported for the test modules
from investor_service.bootstrap import InvestorService, start
from investor_service.settings import InvestorSettings

ISSUER = TEST_ISSUER

TokenFactory = Callable[..., str]
Metadata = tuple[tuple[str, str], ...]


def make_settings(tmp_path: Path, database_url: str, schema: str, **overrides: object) -> InvestorSettings:
    values = base_settings(tmp_path, database_url, schema)
    values.update(overrides)
    return InvestorSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database: tuple[str, str]) -> InvestorSettings:
    return make_settings(tmp_path, *database)


@pytest.fixture
def service(settings: InvestorSettings) -> Iterator[InvestorService]:
    running = start(settings, run_jobs=False)
    yield running
    running.stop(grace=0)


@pytest.fixture
def stub(service: InvestorService) -> Iterator[investor_pb2_grpc.InvestorServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        yield investor_pb2_grpc.InvestorServiceStub(channel)


@pytest.fixture
def token(tmp_path: Path) -> TokenFactory:
    """`token(sub, roles=..., email=...)`: a dev token the service under test accepts (memoized:
    signing loads the dev key, which dominates the cost of a call)."""
    issued: dict[tuple[object, ...], str] = {}

    def make(subject: str, roles: tuple[str, ...] = ("investor",), email: str = "", **claims: object) -> str:
        key = (subject, roles, email, tuple(sorted(claims.items())))
        if key not in issued:
            issued[key] = _issue(subject, roles, email, **claims)
        return issued[key]

    def _issue(subject: str, roles: tuple[str, ...], email: str, **claims: object) -> str:
        return issue_token(
            tmp_path / "keys",
            ISSUER,
            subject,
            roles=roles,
            email=email or f"{subject}@example.com",
            given_name=str(claims.pop("given_name", subject.title())),
            family_name=str(claims.pop("family_name", "Tester")),
            ttl_seconds=600,
        )

    return make


def rpc_error(call: pytest.ExceptionInfo[grpc.RpcError]) -> tuple[grpc.StatusCode, str, list[str]]:
    """(code, ErrorInfo reason, field violation paths) of a failed call."""
    status = from_rpc_error(call.value)
    assert status is not None, "the server must attach a google.rpc.Status"
    info = error_info(status)
    return call.value.code(), info.reason if info else "", [v.field for v in field_violations(status)]


def new_investor(display_name: str = "Northwind Ventures", **fields: object) -> investor_pb2.Investor:
    values: dict[str, object] = {
        "display_name": display_name,
        "category": investor_pb2.INVESTOR_CATEGORY_INSTITUTIONAL,
        "investor_type": investor_pb2.INVESTOR_TYPE_VENTURE_CAPITAL,
    }
    values.update(fields)
    return investor_pb2.Investor(**values)  # type: ignore[arg-type]


def mailed_token(engine: Engine, email: str) -> str:
    """The one-time token of the latest invitation mail to `email`, read from the outbox."""
    rows = select(outbox_messages.c.body).where(outbox_messages.c.event_type == "devinsider.common.v1.MailRequested")
    with engine.connect() as connection:
        bodies = list(connection.execute(rows.order_by(outbox_messages.c.id)).scalars())
    mails = [unpack_payload(from_json(body), mail_pb2.MailRequested) for body in bodies]
    mine = [m for m in mails if m.to_email == email.lower()]
    assert mine, f"no invitation mail to {email}"
    return parse_qs(urlparse(mine[-1].variables["accept_url"]).query)["token"][0]


ROLE_VALUES = {
    "owner": page_pb2.PAGE_ROLE_OWNER,
    "admin": page_pb2.PAGE_ROLE_ADMIN,
    "editor": page_pb2.PAGE_ROLE_EDITOR,
    "viewer": page_pb2.PAGE_ROLE_VIEWER,
}


@dataclass
class Page:
    """A page built through the API: its id and the dev token of each member by role."""

    name: str
    members: dict[str, str] = field(default_factory=dict)  # role -> subject
    pending_invitation: str = ""
    pending_email: str = ""

    @property
    def id(self) -> str:
        return self.name.split("/")[1]


@dataclass
class Builder:
    stub: investor_pb2_grpc.InvestorServiceStub
    service: InvestorService
    token: TokenFactory
    counter: int = 0

    def auth(self, subject: str, roles: tuple[str, ...] = ("investor",)) -> Metadata:
        return bearer(self.token(subject, roles=roles))

    def page(self, prefix: str, roles: tuple[str, ...] = ("admin", "editor", "viewer"), invite: bool = True) -> Page:
        """A page owned by `{prefix}-owner` with one member per role in `roles` (through invitations)."""
        self.counter += 1
        owner = f"{prefix}-owner"
        created = self.stub.CreateInvestor(
            investor_pb2.CreateInvestorRequest(
                investor=new_investor(
                    f"{prefix.title()} Capital {self.counter}",
                    contact=investor_pb2.InvestorContact(email=f"deals@{prefix}.example"),
                )
            ),
            metadata=self.auth(owner),
        )
        page = Page(created.name, {"owner": owner})
        for role in roles:
            subject = f"{prefix}-{role}"
            self.add_member(page, subject, role)
        if invite:
            page.pending_email = f"pending-{self.counter}@example.com"
            invitation = self.invite(page, page.pending_email, "viewer")
            page.pending_invitation = invitation.name
        return page

    def invite(self, page: Page, email: str, role: str) -> investor_pb2.Invitation:
        request = investor_pb2.CreateInvitationRequest(
            parent=page.name, invitation=investor_pb2.Invitation(email=email, role=ROLE_VALUES[role])
        )
        return self.stub.CreateInvitation(request, metadata=self.auth(page.members["owner"]))

    def add_member(self, page: Page, subject: str, role: str) -> None:
        email = f"{subject}@example.com"
        invitation = self.invite(page, email, role)
        token = mailed_token(self.service.engine, email)
        request = investor_pb2.AcceptInvitationRequest(name=invitation.name, token=token)
        self.stub.AcceptInvitation(request, metadata=self.auth(subject))
        page.members[role] = subject


@pytest.fixture
def builder(stub: investor_pb2_grpc.InvestorServiceStub, service: InvestorService, token: TokenFactory) -> Builder:
    return Builder(stub, service, token)

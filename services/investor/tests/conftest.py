"""Fixtures of the investor service tests that run a real server (tests/integration): settings on a
fresh PostgreSQL schema, the service, a stub, signed-in callers, and the invitation mails in the outbox.

The use-case tests (tests/unit) need none of this: they run on tests/fakes.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import grpc
import pytest
from sqlalchemy import Engine, select

from devinsider.common.v1 import mail_pb2
from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.testing.services import base_settings
from devinsider_common.testing.tokens import CallerFactory, TokenFactory
from investor_service.bootstrap import InvestorService, start
from investor_service.settings import InvestorSettings


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
def tokens(tmp_path: Path) -> TokenFactory:
    """Dev tokens the service under test accepts (keys under tmp_path/keys, as base_settings says)."""
    return TokenFactory(tmp_path / "keys")


@pytest.fixture
def callers(tokens: TokenFactory) -> CallerFactory:
    """`callers("kc-ada", roles=("investor",))`: a signed-in user and its bearer metadata."""
    return CallerFactory(tokens)


def new_investor(display_name: str = "Northwind Ventures", **fields: object) -> investor_pb2.Investor:
    values: dict[str, object] = {
        "display_name": display_name,
        "category": investor_pb2.INVESTOR_CATEGORY_INSTITUTIONAL,
        "investor_type": investor_pb2.INVESTOR_TYPE_VENTURE_CAPITAL,
    }
    values.update(fields)
    return investor_pb2.Investor(**values)  # type: ignore[arg-type]


def outbox(engine: Engine, event_type: str) -> list[EventEnvelope]:
    """The stored events of `event_type` (e.g. `devinsider.investor.v1.InvestorCreated`), oldest first."""
    query = select(outbox_messages.c.body).where(outbox_messages.c.event_type == event_type)
    with engine.connect() as connection:
        return [from_json(body) for body in connection.execute(query.order_by(outbox_messages.c.id)).scalars()]


def mailed_token(engine: Engine, email: str) -> str:
    """The one-time token of the latest invitation mail to `email`, read from the outbox."""
    mails = [unpack_payload(e, mail_pb2.MailRequested) for e in outbox(engine, "devinsider.common.v1.MailRequested")]
    mine = [m for m in mails if m.to_email == email.lower()]
    assert mine, f"no invitation mail to {email}"
    return parse_qs(urlparse(mine[-1].variables["accept_url"]).query)["token"][0]

"""`devinsider-billing-replay-unlocks` on PostgreSQL, beside a running service: one more
`UnlockCreated` outbox row per unlock, with the payload of the first; bad settings refused in one line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from billing_service.bootstrap import BillingService
from billing_service.entrypoints import replay_unlocks
from billing_service.settings import BillingSettings
from devinsider.billing.v1 import billing_pb2_grpc, events_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.neighbours import Neighbours
from devinsider_common.testing.tokens import TokenFactory

from ..helpers import PROGRAM, grant, unlock

ACME = "companies/acme"
UNLOCK_CREATED = "devinsider.billing.v1.UnlockCreated"


def unlock_rows(service: BillingService) -> list[tuple[str, str, str, events_pb2.UnlockCreated]]:
    """(exchange, routing key, external id, event) of the UnlockCreated outbox rows, in the order written."""
    query = (
        select(outbox_messages.c.exchange, outbox_messages.c.routing_key, outbox_messages.c.body)
        .where(outbox_messages.c.event_type == UNLOCK_CREATED)
        .order_by(outbox_messages.c.id)
    )
    with service.engine.connect() as connection:
        rows = connection.execute(query).all()
    envelopes = [(exchange, key, from_json(body)) for exchange, key, body in rows]
    return [(x, k, e.external_id, unpack_payload(e, events_pb2.UnlockCreated)) for x, k, e in envelopes]


@pytest.fixture
def replay_environment(monkeypatch: pytest.MonkeyPatch, settings: BillingSettings) -> list[tuple[str, ...]]:
    """The command's environment points at the service's database and schema; the calls it makes to
    configure logging are recorded instead (it would rebind the test process's logging)."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DATABASE_SCHEMA", settings.schema_name)
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(replay_unlocks, "configure_logging", lambda *args: calls.append(args))
    return calls


def test_the_command_republishes_every_unlock_to_the_outbox(
    service: BillingService,
    stub: billing_pb2_grpc.BillingServiceStub,
    neighbours: Neighbours,
    tokens: TokenFactory,
    replay_environment: list[tuple[str, ...]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    neighbours.add_member(PROGRAM, "kc-program", PageRole.ADMIN)
    neighbours.add_member(ACME, "kc-acme", PageRole.OWNER)
    program, acme, staff = tokens("kc-program"), tokens("kc-acme"), tokens("kc-staff", roles=("admin",))
    grant(stub, staff, PROGRAM, 10)
    grant(stub, staff, ACME, 4)
    made = [
        unlock(stub, program, "companies/isv-1", "p1"),
        unlock(stub, acme, "investors/vc", "a1", parent=ACME),
        unlock(stub, program, "companies/isv-2", "p2"),
    ]
    grant(stub, staff, PROGRAM, 5)  # after the unlocks: no replayed balance sees it
    first = unlock_rows(service)
    assert len(first) == 3

    replay_unlocks.main(["--batch-size", "2"])  # two batches, two transactions

    # Its last line (logs go to stderr once configured; here, unconfigured, they print before it).
    assert capsys.readouterr().out.endswith("\nrepublished 3 unlocks\n")
    assert [args[0] for args in replay_environment] == ["billing"]  # logging configured as the service's
    rows = unlock_rows(service)
    again = rows[3:]
    by_id = sorted(made, key=lambda u: u.name.rsplit("/", 1)[1])
    assert [event.unlock.name for _, _, _, event in again] == [u.name for u in by_id]  # once each, in id order
    assert [(x, k, external) for x, k, external, _ in again] == [
        (topology.UNLOCK, "unlock.created", u.name) for u in by_id
    ]
    summary = {e.unlock.name: (e.unlocker.name, e.unlock.target.name, e.balance) for _, _, _, e in again}
    assert summary == {
        made[0].name: (PROGRAM, "companies/isv-1", 9),
        made[1].name: (ACME, "investors/vc", 3),
        made[2].name: (PROGRAM, "companies/isv-2", 8),
    }
    assert sorted(again, key=lambda r: r[3].unlock.name) == sorted(first, key=lambda r: r[3].unlock.name)


def test_the_command_refuses_bad_settings_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TAX_RATE_BPS", "a lot")
    with pytest.raises(SystemExit) as refused:
        replay_unlocks.main([])
    assert refused.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("devinsider-billing-replay-unlocks: refusing to start: TAX_RATE_BPS: ")
    assert error.count("\n") == 1


@pytest.mark.parametrize("size", ["0", "-3", "many"])
def test_the_command_refuses_a_batch_size_below_1(size: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        replay_unlocks.main(["--batch-size", size])
    assert refused.value.code == 2
    assert "--batch-size" in capsys.readouterr().err

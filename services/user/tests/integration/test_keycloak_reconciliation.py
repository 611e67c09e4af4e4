"""The reconciliation job in the real service on PostgreSQL, against a fake Keycloak over HTTP: its
settings, token, paging, transactions, outbox events, metrics and the access rule after a deletion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from devinsider.user.v1 import events_pb2, user_pb2, user_pb2_grpc
from devinsider_common.jobs import Job, run_once_across_replicas
from devinsider_common.locks import InProcessLockFactory
from devinsider_common.metrics import REGISTRY
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.settings import AuthSettings
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.services import TEST_ISSUER
from devinsider_common.testing.tokens import TokenFactory
from user_service.bootstrap import UserService, start
from user_service.entrypoints.reconciliation_job import RECONCILIATION_JOB

from ..conftest import bearer, make_settings
from ..keycloak_server import CLIENT_ID, CLIENT_SECRET, FakeKeycloak, fake_keycloak


@pytest.fixture
def keycloak() -> Iterator[FakeKeycloak]:
    with fake_keycloak() as server:
        yield server


@pytest.fixture
def service(workdir: Path, pg_schema: tuple[str, str], keycloak: FakeKeycloak) -> Iterator[UserService]:
    auth = AuthSettings(
        issuer=TEST_ISSUER,
        dev_key_dir=workdir / "keys",
        token_url=keycloak.token_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    settings = make_settings(
        workdir,
        *pg_schema,
        auth=auth,
        keycloak_admin_url=keycloak.base_url,
        keycloak_reconcile_page_size=2,
        keycloak_reconcile_interval_seconds=1800.0,
    )
    running = start(settings, run_jobs=False)
    yield running
    running.stop(grace=0)


def _job(service: UserService) -> Job:
    [job] = service.jobs
    assert (job.name, job.interval_seconds, job.lock_timeout_seconds) == (RECONCILIATION_JOB, 1800.0, 1800.0)
    return job


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _events(service: UserService) -> list[tuple[str, str]]:
    """(short event type, external id) of the user events written, oldest first."""
    with service.engine.connect() as connection:
        rows = connection.execute(select(outbox_messages).order_by(outbox_messages.c.id)).mappings().all()
    return [
        (r["event_type"].rsplit(".", 1)[1], from_json(r["body"]).external_id)
        for r in rows
        if r["event_type"].startswith("devinsider.user.")
    ]


def _updated(service: UserService) -> events_pb2.UserUpdated:
    with service.engine.connect() as connection:
        query = select(outbox_messages.c.body).where(outbox_messages.c.event_type.endswith("UserUpdated"))
        [body] = connection.execute(query).scalars().all()
    return unpack_payload(from_json(body), events_pb2.UserUpdated)


def test_the_job_makes_the_users_follow_keycloak_and_a_failed_listing_deletes_nobody(
    service: UserService, keycloak: FakeKeycloak, token: TokenFactory
) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)
        bob = stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-bob", email="bob@old.io")))
        carol = stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-carol", email="carol@acme.io")))
        keycloak.add_user("kc-ada", email="Ada@Acme.io", first="Ada", last="Lovelace", verified=True)
        keycloak.add_user("kc-bob", email="bob@acme.io", verified=True)
        keycloak.add_user("kc-dan", email="dan@acme.io")  # three users: two pages of two
        # A first run that fails at its second page: the first page's work stands, nobody is deleted.
        keycloak.page_answers[2] = (500, b'{"error": "unknown_error"}')
        failed = _metric("devinsider_user_keycloak_reconcile_runs_total", outcome="failed")
        assert run_once_across_replicas(_job(service), InProcessLockFactory()) is None
        assert _metric("devinsider_user_keycloak_reconcile_runs_total", outcome="failed") == failed + 1
        assert [kind for kind, _ in _events(service)] == ["UserCreated", "UserCreated", "UserCreated", "UserUpdated"]
        assert stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-carol"))).name == carol.name

        del keycloak.page_answers[2]
        fixes = {
            kind: _metric("devinsider_user_keycloak_reconcile_fixes_total", kind=kind) for kind in ("missing", "absent")
        }
        assert run_once_across_replicas(_job(service), InProcessLockFactory()) == 2  # Dan created, Carol deleted
        assert _metric("devinsider_user_keycloak_reconcile_fixes_total", kind="missing") == fixes["missing"] + 1
        assert _metric("devinsider_user_keycloak_reconcile_fixes_total", kind="absent") == fixes["absent"] + 1
        assert _metric("devinsider_user_keycloak_reconcile_drift", kind="changed") == 0  # Bob followed in run one
        assert _metric("devinsider_user_keycloak_reconcile_drift", kind="absent") == 1
        assert _metric("devinsider_user_keycloak_reconcile_last_success_timestamp_seconds") > 0

        service_caller = bearer(token("svc", roles=("service",)))
        listed = stub.ListUsers(user_pb2.ListUsersRequest(), metadata=service_caller).users
        by_subject = {u.subject: u for u in listed}
        ada = by_subject["kc-ada"]
        assert (ada.email, ada.given_name, ada.family_name, ada.email_verified) == (
            "ada@acme.io",
            "Ada",
            "Lovelace",
            True,
        )
        assert (by_subject["kc-bob"].email, by_subject["kc-bob"].email_verified) == ("bob@acme.io", True)
        assert by_subject["kc-carol"].state == user_pb2.USER_STATE_DELETED
        assert failure(lambda: stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token("kc-carol")))) == Failure(
            grpc.StatusCode.PERMISSION_DENIED, "DELETED"
        )
    updated = _updated(service)
    assert (updated.user.name, list(updated.changed_fields)) == (bob.name, ["email"])
    assert ("UserDeleted", carol.name) in _events(service)
    assert len(keycloak.tokens_issued) == 1  # the client-credentials token is cached across runs
    assert keycloak.requests[-1] == "/admin/realms/devinsider/users/kc-carol"  # confirmed before deleting

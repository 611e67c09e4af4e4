"""The reconciliation job in the real service on PostgreSQL, against a fake Keycloak over HTTP: its
settings, token (renewed once when refused), paging, transactions, outbox events, metrics, the access
rule after a deletion or a disabling, and one run at a time across replicas (Redis lock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import redis
from sqlalchemy import select

from devinsider.user.v1 import events_pb2, user_pb2, user_pb2_grpc
from devinsider_common.jobs import Job, run_once_across_replicas
from devinsider_common.locks import InProcessLockFactory, RedisLockFactory
from devinsider_common.metrics import REGISTRY
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.settings import AuthSettings
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.polling import wait_for
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


@pytest.fixture
def stub(service: UserService) -> Iterator[user_pb2_grpc.UserServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        yield user_pb2_grpc.UserServiceStub(channel)


def _me(stub: user_pb2_grpc.UserServiceStub, token: TokenFactory, subject: str, email: str = "") -> user_pb2.User:
    """The subject's user, created by its first call if need be (as a first visit does)."""
    return stub.GetMe(user_pb2.GetMeRequest(), metadata=bearer(token(subject, email=email)))


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


def _updates(service: UserService) -> list[events_pb2.UserUpdated]:
    """The UserUpdated payloads written (Odoo's user payload), oldest first."""
    with service.engine.connect() as connection:
        query = (
            select(outbox_messages.c.body)
            .where(outbox_messages.c.event_type.endswith("UserUpdated"))
            .order_by(outbox_messages.c.id)
        )
        bodies = connection.execute(query).scalars().all()
    return [unpack_payload(from_json(body), events_pb2.UserUpdated) for body in bodies]


def _run(service: UserService) -> int | None:
    return run_once_across_replicas(_job(service), InProcessLockFactory())


def test_the_job_makes_the_users_follow_keycloak_and_a_failed_listing_deletes_nobody(
    service: UserService, stub: user_pb2_grpc.UserServiceStub, keycloak: FakeKeycloak, token: TokenFactory
) -> None:
    bob = _me(stub, token, "kc-bob", email="bob@old.io")
    carol = _me(stub, token, "kc-carol", email="carol@acme.io")
    keycloak.add_user("kc-ada", email="Ada@Acme.io", first="Ada", last="Lovelace", verified=True)
    keycloak.add_user("kc-bob", email="bob@acme.io", verified=True)
    keycloak.add_user("kc-dan", email="dan@acme.io")  # three users: two pages of two
    # A first run that fails at its second page: the first page's work stands, nobody is deleted.
    keycloak.page_answers[2] = (500, b'{"error": "unknown_error"}')
    failed = _metric("devinsider_user_keycloak_reconcile_runs_total", outcome="failed")
    assert _run(service) is None
    assert _metric("devinsider_user_keycloak_reconcile_runs_total", outcome="failed") == failed + 1
    assert [kind for kind, _ in _events(service)] == ["UserCreated", "UserCreated", "UserCreated", "UserUpdated"]
    assert _me(stub, token, "kc-carol").name == carol.name

    del keycloak.page_answers[2]
    fixes = {
        kind: _metric("devinsider_user_keycloak_reconcile_fixes_total", kind=kind) for kind in ("missing", "absent")
    }
    assert _run(service) == 2  # Dan created, Carol deleted
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
    assert failure(lambda: _me(stub, token, "kc-carol")) == Failure(grpc.StatusCode.PERMISSION_DENIED, "DELETED")
    [updated] = _updates(service)
    assert (updated.user.name, list(updated.changed_fields)) == (bob.name, ["email"])
    assert ("UserDeleted", carol.name) in _events(service)
    assert len(keycloak.tokens_issued) == 1  # the client-credentials token is cached across runs
    assert keycloak.requests[-1] == "/admin/realms/devinsider/users/kc-carol"  # confirmed before deleting


def test_a_user_keycloak_disables_is_refused_until_it_is_enabled_again(
    service: UserService, stub: user_pb2_grpc.UserServiceStub, keycloak: FakeKeycloak, token: TokenFactory
) -> None:
    ada = _me(stub, token, "kc-ada", email="ada@acme.io")
    keycloak.add_user("kc-ada", email="ada@acme.io", first="Ada", last="Lovelace", verified=ada.email_verified)
    keycloak.users[0]["enabled"] = False  # an admin disabled her and the webhook event was lost
    assert _run(service) == 1 and _metric("devinsider_user_keycloak_reconcile_drift", kind="disabled") == 1
    assert failure(lambda: _me(stub, token, "kc-ada")) == Failure(grpc.StatusCode.PERMISSION_DENIED, "DISABLED")
    service_caller = bearer(token("svc", roles=("service",)))
    access = stub.CheckUserAccess(user_pb2.CheckUserAccessRequest(subject="kc-ada"), metadata=service_caller)
    assert (access.allowed, access.reason, access.user) == (False, "DISABLED", ada.name)
    shown = stub.GetUser(user_pb2.GetUserRequest(name=ada.name), metadata=service_caller)
    assert shown.disabled and shown.state == user_pb2.USER_STATE_ACTIVE  # kept, unlike a deletion
    keycloak.users[0]["enabled"] = True
    assert _run(service) == 1
    assert _me(stub, token, "kc-ada").name == ada.name
    assert [(u.user.name, u.user.disabled, list(u.changed_fields)) for u in _updates(service)] == [
        (ada.name, True, ["disabled"]),
        (ada.name, False, ["disabled"]),
    ]
    assert ("UserDeleted", ada.name) not in _events(service)


def test_a_revoked_token_is_renewed_once_and_a_refused_one_fails_the_run_deleting_nobody(
    service: UserService, stub: user_pb2_grpc.UserServiceStub, keycloak: FakeKeycloak, token: TokenFactory
) -> None:
    for n in range(3):
        keycloak.add_user(f"kc-{n}")
    assert _run(service) == 3 and len(keycloak.tokens_issued) == 1
    gone = _me(stub, token, "kc-gone").name
    keycloak.revoke_tokens()  # the cached token dies before its expiry
    keycloak.add_user("kc-3")
    assert _run(service) == 2  # Kc-3 created, Gone confirmed absent and deleted, with one fresh token
    assert len(keycloak.tokens_issued) == 2
    kept = _me(stub, token, "kc-kept").name  # absent from Keycloak too, but no run may delete it while refused
    keycloak.add_user("kc-4")
    keycloak.refuse_tokens = True
    refused = _metric("devinsider_user_keycloak_reconcile_runs_total", outcome="refused")
    requests = len(keycloak.requests)
    assert _run(service) is None
    assert _metric("devinsider_user_keycloak_reconcile_runs_total", outcome="refused") == refused + 1
    assert len(keycloak.requests) == requests + 2 and len(keycloak.tokens_issued) == 3  # one retry, no loop
    events = _events(service)
    assert ("UserDeleted", gone) in events and ("UserDeleted", kept) not in events
    assert [kind for kind, _ in events].count("UserCreated") == 3 + 2 + 1  # Kc-4 never created


def test_a_run_in_progress_on_one_replica_is_skipped_by_another(
    service: UserService, keycloak: FakeKeycloak, redis_prefix: tuple[str, str]
) -> None:
    redis_url, prefix = redis_prefix
    replicas = [RedisLockFactory(redis.Redis.from_url(redis_url), prefix) for _ in range(2)]
    keycloak.add_user("kc-ada")
    released = keycloak.hold_page[0] = threading.Event()
    results: list[int | None] = []
    first = threading.Thread(target=lambda: results.append(run_once_across_replicas(_job(service), replicas[0])))
    first.start()
    try:
        assert wait_for(lambda: len(keycloak.requests) == 1)  # the first replica is reading Keycloak
        assert run_once_across_replicas(_job(service), replicas[1]) is None  # skipped: it runs elsewhere
        assert len(keycloak.requests) == 1
    finally:
        released.set()
        first.join(timeout=10)
    assert results == [1]
    assert run_once_across_replicas(_job(service), replicas[1]) == 0  # the lock is free again: it runs

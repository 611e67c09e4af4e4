"""The Keycloak webhook: signature, replay, staleness and order, then the change to the user. No I/O."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest

from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import principal
from devinsider_common.webhooks import sign
from user_service.domain.model import User, UserState
from user_service.service_layer.keycloak_events import Outcome

from ..fakes import WEBHOOK_SECRET, World, published, world


@pytest.fixture
def w() -> World:
    return world()


def _event(
    w: World, type_: str, subject: str, *, event_id: str = "", age: timedelta = timedelta(), **extra: Any
) -> bytes:
    at: datetime = w.clock.now - age
    payload: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()),
        "time": int(at.timestamp() * 1000),
        "type": type_,
        "realmId": "devinsider",
        "authDetails": {"realmId": "devinsider", "clientId": "web", "userId": subject},
        "details": {},
    }
    payload.update(extra)
    return json.dumps(payload).encode()


def _register(w: World, subject: str, **extra: Any) -> bytes:
    details = {"email": f"{subject}@Acme.io", "first_name": "Grace", "last_name": "Hopper"}
    return _event(w, "access.REGISTER", subject, details=details, **extra)


def _admin(w: World, type_: str, subject: str, age: int, **representation: object) -> bytes:
    """An admin event on `subject`'s user (by another user, the admin), `age` seconds old."""
    return _event(
        w,
        type_,
        "kc-the-admin",
        resourcePath=f"users/{subject}",
        representation=json.dumps(representation),
        age=timedelta(seconds=age),
    )


def _receive(w: World, body: bytes, signature: str | None = None) -> Outcome:
    return w.app.keycloak.receive(body, sign(body, WEBHOOK_SECRET) if signature is None else signature)


def _user(w: World, subject: str) -> User:
    users: list[User] = [u for u in w.committed("users") if u.subject == subject]
    [user] = users
    return user


def test_register_creates_the_user_with_its_event(w: World) -> None:
    assert _receive(w, _register(w, "kc-grace")) is Outcome.APPLIED
    user = _user(w, "kc-grace")
    assert (user.email, user.profile.given_name, user.profile.family_name) == ("kc-grace@acme.io", "Grace", "Hopper")
    assert user.last_event_at == w.clock.now.replace(microsecond=0)
    assert [e.kind for e in published(w.store)] == ["user_created"]
    assert w.app.users.me(principal("kc-grace", email="kc-grace@acme.io")).id == user.id  # the same user signs in


@pytest.mark.parametrize(
    ("signature", "reason"),
    [("", "SIGNATURE_MISSING"), ("deadbeef", "SIGNATURE_MISMATCH"), ("wrong-secret", "SIGNATURE_MISMATCH")],
)
def test_bad_signatures_are_refused_and_change_nothing(w: World, signature: str, reason: str) -> None:
    body = _register(w, "kc-eve")
    header = sign(body, "another-secret") if signature == "wrong-secret" else signature
    assert failure(lambda: _receive(w, body, header)) == Failure(grpc.StatusCode.UNAUTHENTICATED, reason)
    tampered = body.replace(b"kc-eve@Acme.io", b"kc-eve@evil.io")
    assert failure(lambda: _receive(w, tampered, sign(body, WEBHOOK_SECRET))).reason == "SIGNATURE_MISMATCH"
    assert w.store.commits == 0


def test_the_sha256_prefix_is_accepted(w: World) -> None:
    body = _register(w, "kc-pre")
    assert _receive(w, body, "sha256=" + sign(body, WEBHOOK_SECRET)) is Outcome.APPLIED


def test_an_unconfigured_secret_refuses_every_event() -> None:
    w = world(keycloak_webhook_secret="")
    body = _register(w, "kc-x")
    assert failure(lambda: _receive(w, body, "sha256=00")).code == grpc.StatusCode.UNAVAILABLE


def test_a_replayed_event_changes_nothing(w: World) -> None:
    _receive(w, _register(w, "kc-rep", age=timedelta(seconds=1)))
    update_id = str(uuid.uuid4())
    first = _event(w, "access.UPDATE_PROFILE", "kc-rep", event_id=update_id, details={"first_name": "Ann"})
    assert _receive(w, first) is Outcome.APPLIED
    replay = _event(w, "access.UPDATE_PROFILE", "kc-rep", event_id=update_id, details={"first_name": "Mallory"})
    assert _receive(w, replay) is Outcome.DUPLICATE
    assert _user(w, "kc-rep").profile.given_name == "Ann"


@pytest.mark.parametrize("age", [timedelta(minutes=16), timedelta(minutes=-16)])
def test_an_event_too_old_or_from_the_future_changes_nothing(w: World, age: timedelta) -> None:
    assert _receive(w, _register(w, "kc-old", age=age)) is Outcome.STALE
    assert w.store.commits == 0
    assert _receive(w, _register(w, "kc-old", age=timedelta(minutes=14))) is Outcome.APPLIED  # within the bound


def test_an_older_event_delivered_late_does_not_undo_a_newer_one(w: World) -> None:
    _receive(w, _register(w, "kc-ooo", age=timedelta(seconds=5)))
    _receive(w, _event(w, "access.UPDATE_EMAIL", "kc-ooo", details={"updated_email": "new@acme.io"}))
    late = _event(
        w, "access.UPDATE_EMAIL", "kc-ooo", age=timedelta(seconds=2), details={"updated_email": "old@acme.io"}
    )
    assert _receive(w, late) is Outcome.OUT_OF_ORDER
    assert _user(w, "kc-ooo").email == "new@acme.io"
    assert published(w.store, "user_updated")[-1].detail == ("email",)


def test_an_update_changes_only_what_it_carries_and_says_what_changed(w: World) -> None:
    _receive(w, _register(w, "kc-upd", age=timedelta(seconds=1)))
    commits = w.store.commits
    carried = _event(w, "access.UPDATE_PROFILE", "kc-upd", age=timedelta(seconds=0.5), details={"last_name": "H" * 120})
    assert _receive(w, carried) is Outcome.APPLIED
    user = _user(w, "kc-upd")
    assert (user.profile.given_name, user.profile.family_name, user.email) == ("Grace", "H" * 100, "kc-upd@acme.io")
    assert published(w.store, "user_updated")[-1].detail == ("family_name",)
    # An event that changes nothing is recorded (and advances the user's last event) but announces nothing.
    assert _receive(w, _event(w, "access.UPDATE_PROFILE", "kc-upd", details={"first_name": "Grace"})) is Outcome.APPLIED
    assert len(published(w.store, "user_updated")) == 1 and w.store.commits == commits + 2
    # An event at the very time of the last one applied may not be newer: it changes nothing.
    same_time = _event(w, "access.UPDATE_PROFILE", "kc-upd", details={"first_name": "Late"})
    assert _receive(w, same_time) is Outcome.OUT_OF_ORDER and _user(w, "kc-upd").profile.given_name == "Grace"


def test_register_of_a_known_user_updates_it(w: World) -> None:
    me = w.app.users.me(principal("kc-known", email="known@example.com"))
    assert _receive(w, _register(w, "kc-known")) is Outcome.APPLIED
    user = _user(w, "kc-known")
    assert user.id == me.id and user.email == "kc-known@acme.io" and user.profile.family_name == "Hopper"
    assert published(w.store, "user_updated")[-1].detail == ("given_name", "family_name", "email")


def test_admin_events_act_on_the_resource_path_user(w: World) -> None:
    representation = json.dumps({"email": "ops@acme.io", "firstName": "Op", "lastName": "Erator"})
    created = _event(
        w,
        "admin.USER-CREATE",
        "kc-the-admin",
        resourcePath="users/kc-created",
        representation=representation,
        age=timedelta(seconds=2),
    )
    assert _receive(w, created) is Outcome.APPLIED
    assert (_user(w, "kc-created").email, _user(w, "kc-created").profile.given_name) == ("ops@acme.io", "Op")
    rename = json.dumps({"firstName": "Opal"})
    updated = _event(
        w,
        "admin.USER-UPDATE",
        "kc-the-admin",
        resourcePath="users/kc-created",
        representation=rename,
        age=timedelta(seconds=1),
    )
    assert _receive(w, updated) is Outcome.APPLIED and _user(w, "kc-created").profile.given_name == "Opal"
    _receive(w, _event(w, "admin.USER-DELETE", "kc-the-admin", resourcePath="users/kc-created"))
    deleted = _user(w, "kc-created")
    assert deleted.state is UserState.DELETED
    assert published(w.store)[-1].kind == "user_deleted" and published(w.store)[-1].detail == "kc-created"
    assert not any(u.subject == "kc-the-admin" for u in w.committed("users"))


def test_delete_account_marks_the_user_deleted_and_the_access_rule_refuses_it(w: World) -> None:
    _receive(w, _register(w, "kc-raw", age=timedelta(seconds=1)))
    assert _receive(w, _event(w, "access.DELETE_ACCOUNT", "kc-raw")) is Outcome.APPLIED
    assert _user(w, "kc-raw").state is UserState.DELETED
    assert w.app.blacklist.check_access("kc-raw", "").reason == "DELETED"


def test_deleting_or_ignoring_an_unknown_user_creates_nothing(w: World) -> None:
    assert _receive(w, _event(w, "access.DELETE_ACCOUNT", "kc-nobody")) is Outcome.IGNORED
    assert _receive(w, _event(w, "access.CODE_TO_TOKEN", "kc-token")) is Outcome.IGNORED
    assert w.committed("users") == [] and published(w.store) == []
    assert len(w.committed("keycloak_events")) == 2  # seen: a redelivery is a duplicate


def _millis(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)  # events carry milliseconds


@pytest.mark.parametrize("shape", ["p2-inc", "keycloak"])
def test_a_login_sets_the_last_sign_in_time_and_says_so(w: World, shape: str) -> None:
    _receive(w, _register(w, "kc-in", age=timedelta(seconds=10)))
    at = w.clock.now - timedelta(seconds=4)
    login = (
        _event(w, "access.LOGIN", "kc-in", age=timedelta(seconds=4))
        if shape == "p2-inc"
        else json.dumps(
            {"id": "e-raw", "time": int(at.timestamp() * 1000), "type": "LOGIN", "userId": "kc-in"}
        ).encode()
    )
    assert _receive(w, login) is Outcome.APPLIED
    user = _user(w, "kc-in")
    assert user.last_login_at == _millis(at) and user.updated_at == w.clock.now
    assert published(w.store)[-1].kind == "user_updated" and published(w.store)[-1].detail == ("last_login_time",)
    assert _receive(w, login) is Outcome.DUPLICATE


def test_a_late_older_login_changes_nothing(w: World) -> None:
    _receive(w, _register(w, "kc-late", age=timedelta(seconds=10)))
    _receive(w, _event(w, "access.LOGIN", "kc-late", age=timedelta(seconds=2)))
    events, version = len(published(w.store)), _user(w, "kc-late").version
    for age in (timedelta(seconds=5), timedelta(seconds=2)):  # older, then at the very same time
        assert _receive(w, _event(w, "access.LOGIN", "kc-late", age=age)) is Outcome.OUT_OF_ORDER
    user = _user(w, "kc-late")
    assert user.last_login_at == _millis(w.clock.now - timedelta(seconds=2)) and user.version == version
    assert len(published(w.store)) == events
    assert _receive(w, _event(w, "access.LOGIN", "kc-late", age=timedelta(seconds=1))) is Outcome.APPLIED


def test_logins_and_profile_events_do_not_order_each_other(w: World) -> None:
    _receive(w, _register(w, "kc-mix", age=timedelta(seconds=10)))
    assert _receive(w, _event(w, "access.LOGIN", "kc-mix", age=timedelta(seconds=2))) is Outcome.APPLIED
    # An update made before that sign-in, delivered after it, still applies...
    older_update = _event(w, "access.UPDATE_PROFILE", "kc-mix", age=timedelta(seconds=5), details={"first_name": "Ann"})
    assert _receive(w, older_update) is Outcome.APPLIED and _user(w, "kc-mix").profile.given_name == "Ann"
    # ...and a sign-in older than the last profile event still moves the sign-in time forward.
    _receive(w, _event(w, "access.UPDATE_PROFILE", "kc-mix", details={"first_name": "Bea"}))
    assert _receive(w, _event(w, "access.LOGIN", "kc-mix", age=timedelta(seconds=1))) is Outcome.APPLIED
    assert _user(w, "kc-mix").last_login_at == _millis(w.clock.now - timedelta(seconds=1))


@pytest.mark.parametrize("type_", ["access.VERIFY_EMAIL", "VERIFY_EMAIL"])
def test_verify_email_marks_the_email_verified_once(w: World, type_: str) -> None:
    _receive(w, _register(w, "kc-ver", age=timedelta(seconds=10)))
    assert _user(w, "kc-ver").email_verified is False
    verify = _event(w, type_, "kc-ver", age=timedelta(seconds=5), details={"email": "kc-ver@acme.io"})
    assert _receive(w, verify) is Outcome.APPLIED
    assert _user(w, "kc-ver").email_verified is True
    assert published(w.store)[-1].detail == ("email_verified",)
    events = len(published(w.store))
    assert _receive(w, verify) is Outcome.DUPLICATE
    assert _receive(w, _event(w, type_, "kc-ver", age=timedelta(seconds=6))) is Outcome.APPLIED  # another, older one
    assert _user(w, "kc-ver").email_verified is True and len(published(w.store)) == events


def test_a_login_or_verification_of_an_unknown_user_creates_it_and_its_late_register_still_applies(w: World) -> None:
    assert _receive(w, _event(w, "access.LOGIN", "kc-first", age=timedelta(seconds=1))) is Outcome.APPLIED
    created = _user(w, "kc-first")
    assert created.last_login_at == _millis(w.clock.now - timedelta(seconds=1)) and created.email == ""
    assert created.last_event_at is None
    assert [(e.kind, e.quiet) for e in published(w.store)] == [("user_created", False)]
    # The REGISTER sent with that sign-in, delivered after it although older, still gives the profile.
    assert _receive(w, _register(w, "kc-first", age=timedelta(seconds=2))) is Outcome.APPLIED
    user = _user(w, "kc-first")
    assert (user.email, user.profile.given_name, user.last_login_at) == (
        "kc-first@acme.io",
        "Grace",
        created.last_login_at,
    )
    verify = _event(w, "access.VERIFY_EMAIL", "kc-new", details={"email": "New@Acme.io"})
    assert _receive(w, verify) is Outcome.APPLIED
    assert (_user(w, "kc-new").email, _user(w, "kc-new").email_verified) == ("new@acme.io", True)


def test_an_admin_update_may_set_the_verification_either_way(w: World) -> None:
    _receive(w, _register(w, "kc-adm", age=timedelta(seconds=10)))

    def admin_update(age: int, **representation: object) -> bytes:
        return _admin(w, "admin.USER-UPDATE", "kc-adm", age, **representation)

    assert _receive(w, admin_update(5, emailVerified=True)) is Outcome.APPLIED
    assert _user(w, "kc-adm").email_verified and published(w.store)[-1].detail == ("email_verified",)
    assert _receive(w, admin_update(4, firstName="Grace")) is Outcome.APPLIED  # silent on it: it stays
    assert _user(w, "kc-adm").email_verified
    assert _receive(w, admin_update(3, emailVerified=False)) is Outcome.APPLIED
    assert not _user(w, "kc-adm").email_verified


def test_an_admin_disabling_refuses_the_user_until_it_is_enabled_again(w: World) -> None:
    _receive(w, _register(w, "kc-dis", age=timedelta(seconds=10)))
    version = _user(w, "kc-dis").version
    assert _receive(w, _admin(w, "admin.USER-UPDATE", "kc-dis", 5, enabled=False)) is Outcome.APPLIED
    user = _user(w, "kc-dis")
    assert user.disabled and user.state is UserState.ACTIVE and user.version == version + 1  # kept, not deleted
    assert published(w.store)[-1].kind == "user_updated" and published(w.store)[-1].detail == ("disabled",)
    assert w.app.blacklist.check_access("kc-dis", "").reason == "DISABLED"
    assert _receive(w, _admin(w, "admin.USER-UPDATE", "kc-dis", 4, firstName="Grace")) is Outcome.APPLIED
    assert _user(w, "kc-dis").disabled  # silent on it: it stays
    assert _receive(w, _admin(w, "admin.USER-UPDATE", "kc-dis", 3, enabled=True)) is Outcome.APPLIED
    assert not _user(w, "kc-dis").disabled and published(w.store)[-1].detail == ("disabled",)
    assert w.app.blacklist.check_access("kc-dis", "").allowed
    late = _admin(w, "admin.USER-UPDATE", "kc-dis", 6, enabled=False)  # older than the enabling
    assert _receive(w, late) is Outcome.OUT_OF_ORDER and not _user(w, "kc-dis").disabled


def test_a_user_an_admin_creates_disabled_is_created_disabled(w: World) -> None:
    _receive(w, _admin(w, "admin.USER-CREATE", "kc-off", 1, email="off@acme.io", enabled=False))
    assert _user(w, "kc-off").disabled and w.app.blacklist.check_access("kc-off", "").reason == "DISABLED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (json.dumps({"time": 1, "type": "access.REGISTER"}).encode(), "id"),
        (json.dumps({"id": "x", "type": "access.REGISTER"}).encode(), "time"),
        (json.dumps({"id": "x", "time": 1, "type": "access.REGISTER"}).encode(), "userId"),
    ],
)
def test_malformed_events_are_invalid_arguments(w: World, body: bytes, field: str) -> None:
    refused = failure(lambda: _receive(w, body))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [field])

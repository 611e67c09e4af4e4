"""Reconciliation with Keycloak: creations, updates and deletions from its listing, and when it must
not act (a failed or shifted listing, changes made while it ran, too many deletions). No I/O."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest

from devinsider_common import errors
from devinsider_common.testing.tokens import principal
from devinsider_common.webhooks import sign
from user_service.domain.model import Profile, User, UserState
from user_service.domain.reconciliation import Drift, KeycloakAccount, ReconciliationReport
from user_service.service_layer import reconciliation

from ..fakes import WEBHOOK_SECRET, FakeKeycloak, World, published, world

# As Keycloak lists them; the e-mails are those `_local` gives (once lower-cased).
ADA = KeycloakAccount("kc-ada", email="KC-Ada@Acme.io", given_name="Ada", family_name="Lovelace", email_verified=True)
BOB = KeycloakAccount("kc-bob", email="kc-bob@acme.io", given_name="Bob", email_verified=True)
CY = KeycloakAccount("kc-cy", email="kc-cy@acme.io")


def _world(*accounts: KeycloakAccount, **settings: object) -> World:
    return world(FakeKeycloak(*accounts), **settings)


def _keycloak(w: World) -> FakeKeycloak:
    assert w.keycloak is not None
    return w.keycloak


def _run(w: World) -> ReconciliationReport:
    assert w.app.reconciliation is not None
    return w.app.reconciliation.run()


def _user(w: World, subject: str) -> User:
    users: list[User] = [u for u in w.committed("users") if u.subject == subject]
    [user] = users
    return user


def _local(w: World, *subjects: str) -> None:
    """Users known here (created by a first call, as GetMe does)."""
    for subject in subjects:
        w.app.users.me(principal(subject, email=f"{subject}@acme.io"))


def _webhook(w: World, **payload: object) -> None:
    """A Keycloak event, as of now, through the webhook."""
    body = json.dumps({"id": str(uuid.uuid4()), "time": int(w.clock.now.timestamp() * 1000), **payload}).encode()
    w.app.keycloak.receive(body, sign(body, WEBHOOK_SECRET))


def _email_webhook(w: World, subject: str) -> None:
    _webhook(w, type="UPDATE_EMAIL", userId=subject, details={"updated_email": f"{subject}@new.io"})


def test_without_a_keycloak_directory_there_is_no_reconciliation() -> None:
    assert world().app.reconciliation is None


def test_users_missing_here_are_created_as_register_would_without_a_welcome_mail() -> None:
    w = _world(ADA, BOB, CY)
    report = _run(w)
    ada = _user(w, "kc-ada")
    assert (ada.email, ada.profile.given_name, ada.profile.family_name, ada.email_verified) == (
        "kc-ada@acme.io",
        "Ada",
        "Lovelace",
        True,
    )
    assert ada.state is UserState.ACTIVE and ada.created_at == w.clock.now
    created = published(w.store, "user_created")
    assert [(e.name, e.quiet) for e in created] == [(u.name, True) for u in w.committed("users")]
    assert report.listed == 3 and report.found == report.fixed == {Drift.MISSING: 3}
    assert _run(w).found == {}  # in step now: a second run finds nothing


def test_email_verification_and_empty_names_follow_keycloak_but_the_users_own_names_stay() -> None:
    w = _world(replace(ADA, email="Ada@Acme.io", email_verified=False), BOB)
    _local(w, "kc-ada", "kc-bob")  # both "Ada Lovelace", verified, from their first token
    w.app.users.update_me(
        principal("kc-ada"), Profile(given_name="Augusta", family_name=""), frozenset({"given_name", "family_name"})
    )
    w.clock.advance(seconds=1)
    bob_before = _user(w, "kc-bob")  # in step: his names are his own, e-mail and verification match
    report = _run(w)
    ada = _user(w, "kc-ada")
    assert (ada.email, ada.email_verified, ada.profile.given_name, ada.profile.family_name) == (
        "ada@acme.io",
        False,
        "Augusta",  # edited here: Keycloak's "Ada" does not undo it
        "Lovelace",  # empty here: taken from Keycloak
    )
    assert ada.last_event_at == w.clock.now  # an older webhook event delivered late will not undo it
    [updated] = published(w.store, "user_updated")[1:]
    assert (updated.name, updated.detail) == (ada.name, ("family_name", "email", "email_verified"))
    assert _user(w, "kc-bob").version == bob_before.version  # nothing to change: nothing written
    assert report.found == report.fixed == {Drift.CHANGED: 1}


def test_users_gone_from_keycloak_are_marked_deleted_as_the_delete_webhook_does() -> None:
    w = _world(ADA)
    _local(w, "kc-ada", "kc-gone", "kc-also-gone")
    w.clock.advance(seconds=1)
    report = _run(w)
    assert _user(w, "kc-gone").state is _user(w, "kc-also-gone").state is UserState.DELETED
    assert _user(w, "kc-ada").state is UserState.ACTIVE
    assert sorted(e.detail for e in published(w.store, "user_deleted")) == ["kc-also-gone", "kc-gone"]
    assert sorted(_keycloak(w).existence_checks) == ["kc-also-gone", "kc-gone"]  # each confirmed on its own
    assert w.app.blacklist.check_access("kc-gone", "").reason == "DELETED"
    assert report.found == report.fixed == {Drift.ABSENT: 2}
    assert _run(w).found == {}  # a deleted user is not deleted again


def _admin_update(w: World, subject: str, **representation: object) -> None:
    _webhook(w, type="admin.USER-UPDATE", resourcePath=f"users/{subject}", representation=json.dumps(representation))


def test_users_keycloak_disables_are_refused_and_kept_until_enabled_again() -> None:
    w = _world(replace(BOB, enabled=False), replace(CY, enabled=False))
    _local(w, "kc-bob")
    w.clock.advance(seconds=1)
    report = _run(w)
    bob, cy = _user(w, "kc-bob"), _user(w, "kc-cy")
    assert bob.disabled and bob.state is UserState.ACTIVE  # refused, not deleted: nothing of his is dropped
    assert cy.disabled  # created as Keycloak lists it
    [updated] = published(w.store, "user_updated")
    assert (updated.name, updated.detail) == (bob.name, ("disabled",))
    assert published(w.store, "user_deleted") == []
    assert w.app.blacklist.check_access("kc-bob", "").reason == "DISABLED"
    assert report.found == report.fixed == {Drift.DISABLED: 1, Drift.MISSING: 1}
    _keycloak(w).put(BOB)  # enabled again
    w.clock.advance(seconds=1)
    assert _run(w).fixed == {Drift.DISABLED: 1} and not _user(w, "kc-bob").disabled
    assert w.app.blacklist.check_access("kc-bob", "").allowed


def test_a_user_the_webhook_disabled_is_in_step_with_the_listing() -> None:
    w = _world(replace(ADA, email="kc-ada@acme.io", enabled=False))
    _local(w, "kc-ada")
    _admin_update(w, "kc-ada", enabled=False)  # both paths make the same user of a disabled account
    w.clock.advance(seconds=1)
    assert _user(w, "kc-ada").disabled and _run(w).found == {}


def test_a_disabled_user_gone_from_keycloak_is_deleted() -> None:
    w = _world()
    _local(w, "kc-gone")
    _admin_update(w, "kc-gone", enabled=False)
    w.clock.advance(seconds=1)
    assert _run(w).fixed == {Drift.ABSENT: 1} and _user(w, "kc-gone").state is UserState.DELETED


@pytest.mark.parametrize("failing_page", [0, 1, 2])
def test_a_listing_that_fails_at_any_page_deletes_nobody(failing_page: int) -> None:
    w = _world(ADA, BOB, CY, KeycloakAccount("kc-dan"), KeycloakAccount("kc-eve"))  # pages of 2: three pages
    _local(w, "kc-gone")
    w.clock.advance(seconds=1)
    _keycloak(w).fail_at = failing_page
    with pytest.raises(errors.Unavailable):
        _run(w)
    assert _user(w, "kc-gone").state is UserState.ACTIVE and published(w.store, "user_deleted") == []
    assert _keycloak(w).existence_checks == []
    # The pages read before the failure were true: their users were created.
    assert len(published(w.store, "user_created")) == 1 + 2 * failing_page


def test_a_user_on_no_page_because_the_pages_shifted_is_not_deleted() -> None:
    w = _world(ADA, BOB)
    _local(w, "kc-ada", "kc-bob")
    w.clock.advance(seconds=1)
    _keycloak(w).unlisted = {"kc-bob"}  # a deletion during the listing moved Bob to a page already read
    report = _run(w)
    assert _user(w, "kc-bob").state is UserState.ACTIVE and _keycloak(w).existence_checks == ["kc-bob"]
    assert report.found == {}


def test_users_created_or_changed_while_the_listing_ran_are_left_alone() -> None:
    w = _world(ADA, BOB, CY)
    _local(w, "kc-cy", "kc-old")
    w.clock.advance(seconds=1)
    keycloak = _keycloak(w)
    # While page 1 is read: a first call creates a user the listing has not seen, a webhook event
    # changes Cy (whose page, read after it, still shows the old e-mail: it is older than the event).

    def meanwhile() -> None:
        _local(w, "kc-newcomer")
        _email_webhook(w, "kc-cy")

    keycloak.before_page[1] = meanwhile
    report = _run(w)
    assert _user(w, "kc-newcomer").state is UserState.ACTIVE
    assert _user(w, "kc-cy").email == "kc-cy@new.io"
    assert _user(w, "kc-old").state is UserState.DELETED  # known before the run began: really gone
    assert report.found == {Drift.MISSING: 2, Drift.ABSENT: 1}


def test_more_absent_users_than_a_run_may_delete_deletes_none() -> None:
    w = _world(keycloak_reconcile_max_deletions=2)  # an empty realm: another realm, or a wrong answer
    _local(w, "kc-1", "kc-2", "kc-3")
    w.clock.advance(seconds=1)
    report = _run(w)
    assert all(u.state is UserState.ACTIVE for u in w.committed("users"))
    assert report.deletions_held == 3 and report.found == {Drift.ABSENT: 3} and report.fixed == {}
    assert _keycloak(w).existence_checks == []
    w = _world(keycloak_reconcile_max_deletions=3)
    _local(w, "kc-1", "kc-2", "kc-3")
    w.clock.advance(seconds=1)
    assert _run(w).fixed == {Drift.ABSENT: 3}  # at the bound: deleted


def test_a_run_may_delete_no_one_when_the_bound_is_zero() -> None:
    w = _world(keycloak_reconcile_max_deletions=0)
    _local(w, "kc-gone")
    w.clock.advance(seconds=1)
    assert _run(w).deletions_held == 1 and _user(w, "kc-gone").state is UserState.ACTIVE


def test_deleted_users_keycloak_still_lists_are_left_deleted() -> None:
    w = _world(replace(ADA, email="changed@acme.io"))
    _local(w, "kc-ada")
    ada = _user(w, "kc-ada")
    with w.uow() as uow:
        uow.users.save(replace(ada, state=UserState.DELETED))
        uow.commit()
    assert _run(w).found == {} and _user(w, "kc-ada").email == "kc-ada@acme.io"


def test_a_creation_that_loses_to_a_concurrent_one_is_skipped_and_the_run_goes_on() -> None:
    w = _world(ADA, BOB)
    w.store.racers["users"] = lambda: _local(w, "kc-ada")  # a first call creates Ada just before the run does
    report = _run(w)
    assert report.found[Drift.MISSING] == 2 and report.fixed[Drift.MISSING] == 1
    assert {u.subject for u in w.committed("users")} == {"kc-ada", "kc-bob"}


def test_absent_users_are_found_beyond_the_first_local_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reconciliation, "LOCAL_WINDOW", 2)
    w = _world(ADA)
    _local(w, "kc-ada", "kc-1", "kc-2", "kc-3", "kc-4")
    w.clock.advance(seconds=1)
    assert _run(w).fixed == {Drift.ABSENT: 4}


def test_a_user_changed_after_it_was_found_absent_is_not_deleted() -> None:
    w = _world()
    _local(w, "kc-gone")
    w.clock.advance(seconds=1)
    keycloak = _keycloak(w)
    original_exists = keycloak.exists

    def exists_while_the_user_changes(subject: str) -> bool:
        w.app.users.update_me(principal(subject), Profile(job_title="CTO"), frozenset({"job_title"}))
        return original_exists(subject)

    keycloak.exists = exists_while_the_user_changes  # type: ignore[method-assign]
    report = _run(w)
    assert _user(w, "kc-gone").state is UserState.ACTIVE
    assert report.found == {Drift.ABSENT: 1} and report.fixed == {}


def test_users_created_just_before_the_run_began_may_be_deleted() -> None:
    w = _world()
    _local(w, "kc-gone")
    w.clock.advance(microseconds=1)
    assert _run(w).fixed == {Drift.ABSENT: 1}

"""User domain rules, without any I/O."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devinsider_common import errors
from user_service.domain.blacklist import BlacklistEntry, BlacklistKind, decide_access, parent_domains
from user_service.domain.keycloak_event import KeycloakEventKind, parse_keycloak_event
from user_service.domain.model import ContactCategory, Profile, User, UserState
from user_service.domain.reconciliation import Drift, KeycloakAccount, drift_of, follow_account, user_from_account
from user_service.domain.requests import ProVerification, ProVerificationState

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _user(**profile: object) -> User:
    return User(id="u1", subject="kc-1", email="ada@acme.io", profile=Profile(**profile))  # type: ignore[arg-type]


def test_with_profile_reports_only_real_changes() -> None:
    user = _user(given_name="Ada", job_title="CTO")
    changes = Profile(given_name="Ada", job_title="CEO", contact_category=ContactCategory.RESELLER)
    updated, changed = user.with_profile(changes, frozenset({"given_name", "job_title", "contact_category"}))
    assert changed == ["contact_category", "job_title"]
    assert updated.profile.job_title == "CEO" and updated.profile.given_name == "Ada"


def test_display_name_and_email_domain() -> None:
    assert _user(given_name="Ada").display_name == "Ada" and _user().display_name == "ada@acme.io"
    assert User(id="u", subject="s", email="a@Mail.ACME.io", profile=Profile()).email_domain == "mail.acme.io"


def test_with_profile_leaves_unmasked_fields_alone() -> None:
    updated, changed = _user(biography="keep").with_profile(Profile(biography=""), frozenset({"job_title"}))
    assert updated.profile.biography == "keep" and changed == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country_code", "fr"),
        ("country_code", "FRA"),
        ("phone_number", "0612345678"),
        ("linkedin_url", "linkedin.com/in/ada"),
        ("given_name", "x" * 101),
        ("family_name", "x" * 101),
        ("biography", "bad\x00byte"),
    ],
)
def test_profile_validation_names_the_bad_field(field: str, value: str) -> None:
    with pytest.raises(errors.InvalidArgument) as raised:
        Profile(**{field: value}).validate(frozenset({field}))  # type: ignore[arg-type]
    assert [v.field for v in raised.value.violations] == [f"user.{field}"]


def test_a_valid_profile_passes() -> None:
    Profile(country_code="FR", phone_number="+33612345678", linkedin_url="https://linkedin.com/in/ada").validate(
        frozenset({"country_code", "phone_number", "linkedin_url"})
    )


def test_pro_verification_decisions_happen_once() -> None:
    request = ProVerification(id="p1", user_id="u1", work_email="a@acme.io", company_name="Acme")
    approved = request.decide(True, "users/admin", NOW)
    assert approved.state is ProVerificationState.APPROVED and approved.decided_at == NOW
    with pytest.raises(errors.FailedPrecondition):
        approved.decide(False, "users/admin", NOW, "late")
    with pytest.raises(errors.InvalidArgument):
        request.decide(False, "users/admin", NOW, "")


def test_access_rule() -> None:
    assert decide_access("s", "a@ok.io", False, set(), set()).allowed
    assert decide_access("s", "a@ok.io", True, set(), set()).reason == "DELETED"
    assert decide_access("s", "a@ok.io", False, {"s"}, set()).reason == "BLACKLISTED_USER"
    assert decide_access("s", "a@mail.spam.io", False, set(), {"spam.io"}).reason == "BLACKLISTED_DOMAIN"
    assert decide_access("s", "a@notspam.io", False, set(), {"spam.io"}).allowed
    assert decide_access("s", "a@ok.io", False, set(), set(), user_disabled=True).reason == "DISABLED"
    assert decide_access("s", "a@ok.io", True, set(), set(), user_disabled=True).reason == "DELETED"  # final first


def test_parent_domains() -> None:
    assert parent_domains("x@a.b.example") == {"a.b.example", "b.example", "example"}
    assert parent_domains("no-at-sign") == set()


def test_blacklist_entry_validation() -> None:
    BlacklistEntry("b1", BlacklistKind.EMAIL_DOMAIN, "spam.example").validate()
    with pytest.raises(errors.InvalidArgument):
        BlacklistEntry("b1", BlacklistKind.EMAIL_DOMAIN, "Spam Example").validate()


def _body(**payload: object) -> bytes:
    return json.dumps({"id": "e1", "time": 1_795_000_000_000, **payload}).encode()


@pytest.mark.parametrize(
    ("payload", "kind", "subject"),
    [
        ({"type": "access.REGISTER", "authDetails": {"userId": "u"}}, KeycloakEventKind.REGISTER, "u"),
        ({"type": "REGISTER", "userId": "u"}, KeycloakEventKind.REGISTER, "u"),
        ({"type": "access.UPDATE_EMAIL", "userId": "u"}, KeycloakEventKind.UPDATE_EMAIL, "u"),
        ({"type": "access.DELETE_ACCOUNT", "userId": "u"}, KeycloakEventKind.DELETE_ACCOUNT, "u"),
        (
            {"type": "admin.USER-CREATE", "authDetails": {"userId": "admin"}, "resourcePath": "users/u"},
            KeycloakEventKind.ADMIN_USER_CREATE,
            "u",
        ),
        (
            {"operationType": "DELETE", "resourceType": "USER", "resourcePath": "users/u"},
            KeycloakEventKind.ADMIN_USER_DELETE,
            "u",
        ),
        (
            {"operationType": "UPDATE", "resourceType": "CLIENT", "resourcePath": "clients/c"},
            KeycloakEventKind.IGNORED,
            "",
        ),
        ({"type": "access.LOGIN", "authDetails": {"userId": "u"}}, KeycloakEventKind.LOGIN, "u"),
        ({"type": "LOGIN", "userId": "u"}, KeycloakEventKind.LOGIN, "u"),
        ({"type": "access.VERIFY_EMAIL", "authDetails": {"userId": "u"}}, KeycloakEventKind.VERIFY_EMAIL, "u"),
        ({"type": "VERIFY_EMAIL", "userId": "u"}, KeycloakEventKind.VERIFY_EMAIL, "u"),
        ({"type": "access.CODE_TO_TOKEN", "userId": "u"}, KeycloakEventKind.IGNORED, "u"),
        ({"type": "LOGIN_ERROR", "userId": "u"}, KeycloakEventKind.IGNORED, "u"),
    ],
)
def test_keycloak_event_shapes(payload: dict[str, object], kind: KeycloakEventKind, subject: str) -> None:
    event = parse_keycloak_event(_body(**payload))
    assert (event.kind, event.subject) == (kind, subject)


def test_keycloak_event_fields_come_from_details_or_representation() -> None:
    event = parse_keycloak_event(
        _body(
            type="admin.USER-UPDATE",
            resourcePath="users/u",
            representation=json.dumps({"email": "Ada@Acme.io", "firstName": "Ada", "lastName": "L"}),
        )
    )
    assert (event.email, event.given_name, event.family_name) == ("ada@acme.io", "Ada", "L")
    assert event.email_verified is None  # the event does not say: nothing to change
    assert event.time == datetime.fromtimestamp(1_795_000_000, tz=UTC)
    with pytest.raises(errors.InvalidArgument):
        parse_keycloak_event(_body(type="admin.USER-UPDATE", resourcePath="users/u", representation="{oops"))


@pytest.mark.parametrize(("key", "field"), [("emailVerified", "email_verified"), ("enabled", "enabled")])
@pytest.mark.parametrize("value", [True, False, None, "yes"])
def test_an_admin_event_may_say_whether_the_email_is_verified_and_the_account_enabled(
    key: str, field: str, value: object
) -> None:
    representation = {} if value is None else {key: value}
    body = _body(type="admin.USER-UPDATE", resourcePath="users/u", representation=json.dumps(representation))
    said = getattr(parse_keycloak_event(body), field)
    assert said is (value if isinstance(value, bool) else None)  # None: the event does not say


@pytest.mark.parametrize(
    ("type_", "changes_profile"),
    [("LOGIN", False), ("VERIFY_EMAIL", False), ("CODE_TO_TOKEN", False), ("REGISTER", True), ("UPDATE_EMAIL", True)],
)
def test_sign_ins_and_verifications_are_not_ordered_against_profile_events(type_: str, changes_profile: bool) -> None:
    assert parse_keycloak_event(_body(type=type_, userId="u")).changes_profile is changes_profile


def test_the_last_sign_in_never_moves_backwards() -> None:
    user = User(id="u1", subject="kc", email="a@acme.io", profile=Profile())
    first = user.signed_in(NOW)
    assert first is not None and first.last_login_at == NOW
    assert first.signed_in(NOW) is None and first.signed_in(NOW - timedelta(seconds=1)) is None
    later = first.signed_in(NOW + timedelta(seconds=1))
    assert later is not None and later.last_login_at == NOW + timedelta(seconds=1)
    naive = replace(first, last_login_at=NOW.replace(tzinfo=None))  # as SQLite gives it back
    assert naive.signed_in(NOW) is None


def test_a_user_follows_keycloaks_email_and_verification_and_takes_only_names_it_lacks() -> None:
    user = User(id="u1", subject="kc", email="old@acme.io", profile=Profile(given_name="Ada"), email_verified=True)
    account = KeycloakAccount("kc", email="New@Acme.io", given_name="Augusta", family_name="King")
    followed, changed = follow_account(user, account)
    assert (followed.email, followed.email_verified) == ("new@acme.io", False)
    assert (followed.profile.given_name, followed.profile.family_name) == ("Ada", "King")  # the user's own name stays
    assert changed == ["family_name", "email", "email_verified"]
    assert follow_account(followed, account) == (followed, [])
    no_email = KeycloakAccount("kc", email="", given_name="Ada", family_name="King")
    assert follow_account(followed, no_email)[0].email == "new@acme.io"  # Keycloak has none: ours stays


def test_a_missing_user_is_made_as_register_would() -> None:
    account = KeycloakAccount("kc", email="Ada@Acme.io", given_name="A" * 120, family_name="L", email_verified=True)
    user = user_from_account(account, "u1", NOW, NOW - timedelta(seconds=3))
    assert (user.id, user.subject, user.email, user.email_verified) == ("u1", "kc", "ada@acme.io", True)
    assert (user.profile.given_name, user.profile.family_name) == ("A" * 100, "L")
    assert (user.created_at, user.last_event_at, user.state) == (NOW, NOW - timedelta(seconds=3), UserState.ACTIVE)
    assert not user.disabled
    disabled = user_from_account(replace(account, enabled=False), "u2", NOW, NOW)
    assert disabled.disabled and disabled.state is UserState.ACTIVE  # refused, not deleted


def test_a_user_is_disabled_and_enabled_again_as_keycloak_says() -> None:
    user = User(id="u1", subject="kc", email="ada@acme.io", profile=Profile(given_name="Ada", family_name="L"))
    account = KeycloakAccount("kc", email="ada@acme.io", given_name="Ada", family_name="L", enabled=False)
    disabled, changed = follow_account(user, account)
    assert disabled.disabled and changed == ["disabled"] and drift_of(changed) is Drift.DISABLED
    assert follow_account(disabled, account) == (disabled, [])
    enabled, changed = follow_account(disabled, replace(account, email="new@acme.io", enabled=True))
    assert not enabled.disabled and changed == ["email", "disabled"] and drift_of(changed) is Drift.DISABLED
    assert drift_of(["email"]) is Drift.CHANGED

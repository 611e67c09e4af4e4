"""Use cases on users (the caller's own user, profiles, the directory), without I/O."""

from __future__ import annotations

from dataclasses import replace

import grpc
import pytest

from devinsider_common.auth.principal import Principal
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import principal
from devinsider_common.unit_of_work import DuplicateRecord
from user_service.domain.model import ContactCategory, Profile, User, UserState

from ..fakes import Published, World, published, world


@pytest.fixture
def w() -> World:
    return world()


def test_me_creates_the_user_from_the_claims_once(w: World) -> None:
    caller = Principal(
        "kc-ada", frozenset({"isv", "expert"}), email="Ada@Example.com", given_name="A" * 120, family_name="L"
    )
    first = w.app.users.me(caller)
    assert (first.subject, first.email, first.roles) == ("kc-ada", "ada@example.com", ("expert", "isv"))
    assert (first.profile.given_name, first.profile.family_name) == ("A" * 100, "L")
    assert first.state is UserState.ACTIVE and first.created_at == first.updated_at == w.clock.now
    commits = w.store.commits
    assert w.app.users.me(caller) == first
    assert w.store.commits == commits  # a known caller is read, not written
    assert published(w.store) == [Published("user_created", first.name, first)]


@pytest.mark.parametrize("verified", [True, False])
def test_me_creates_the_user_with_the_tokens_email_verification(w: World, verified: bool) -> None:
    assert w.app.users.me(principal("kc-ver", email_verified=verified)).email_verified is verified


def test_me_keeps_the_roles_in_step_with_the_token(w: World) -> None:
    before = w.app.users.me(principal("kc-bob", roles=("isv",)))
    w.clock.advance(minutes=1)
    after = w.app.users.me(principal("kc-bob", roles=("investor", "isv")))
    assert after.id == before.id and after.roles == ("investor", "isv") and after.updated_at == w.clock.now
    assert after.version == before.version + 1
    assert published(w.store, "user_updated") == [Published("user_updated", after.name, ("roles",))]
    assert w.committed("users") == [after]  # what the command returned is what it stored


def test_a_concurrent_first_call_returns_the_twin_it_created(w: World) -> None:
    caller = principal("kc-race")
    twins: list[User] = []
    w.store.racers["users"] = lambda: twins.append(w.app.users.me(caller))
    user = w.app.users.me(caller)
    assert twins == [user] and len(w.committed("users")) == 1
    assert len(published(w.store, "user_created")) == 1


def test_a_duplicate_without_a_twin_is_a_conflict(w: World) -> None:
    def lose() -> None:
        raise DuplicateRecord("users_pkey")  # the key met was not the subject's

    w.store.racers["users"] = lose
    assert failure(lambda: w.app.users.me(principal("kc-unlucky"))) == Failure(
        grpc.StatusCode.ABORTED, "CONCURRENT_CREATE"
    )
    assert w.committed("users") == []


def test_update_me_changes_only_the_masked_fields_and_says_which_changed(w: World) -> None:
    caller = principal("kc-carl")
    w.app.users.me(caller)
    w.clock.advance(seconds=5)
    changes = Profile(job_title="CTO", country_code="FR", biography="ignored", given_name="Ada")
    updated = w.app.users.update_me(caller, changes, frozenset({"job_title", "country_code", "given_name"}))
    assert (updated.profile.job_title, updated.profile.country_code, updated.profile.biography) == ("CTO", "FR", "")
    assert updated.updated_at == w.clock.now and w.committed("users") == [updated]
    assert published(w.store, "user_updated")[-1].detail == ("country_code", "job_title")  # given_name was already Ada


def test_update_me_without_a_change_writes_nothing(w: World) -> None:
    caller = principal("kc-dan")
    me = w.app.users.me(caller)
    commits = w.store.commits
    assert w.app.users.update_me(caller, Profile(given_name="Ada"), frozenset({"given_name"})) == me
    assert w.store.commits == commits and published(w.store, "user_updated") == []


def test_update_me_creates_a_first_time_caller_then_updates_it(w: World) -> None:
    updated = w.app.users.update_me(
        principal("kc-new"), Profile(contact_category=ContactCategory.RESELLER), frozenset({"contact_category"})
    )
    assert updated.profile.contact_category is ContactCategory.RESELLER
    assert [e.kind for e in published(w.store)] == ["user_created", "user_updated"]


def test_update_me_reports_every_bad_field_and_stores_nothing(w: World) -> None:
    caller = principal("kc-eve")
    me = w.app.users.me(caller)
    bad = Profile(country_code="france", phone_number="0612", linkedin_url="javascript:alert(1)")
    refused = failure(
        lambda: w.app.users.update_me(caller, bad, frozenset({"country_code", "phone_number", "linkedin_url"}))
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert sorted(refused.fields) == ["user.country_code", "user.linkedin_url", "user.phone_number"]
    assert w.committed("users") == [me]


def test_get_user_shows_everything_to_the_user_staff_and_services_only(w: World) -> None:
    eve = w.app.users.me(principal("kc-eve"))
    assert w.app.users.get_user(principal("kc-eve"), eve.id).full
    assert w.app.users.get_user(principal("kc-admin", roles=("admin",)), eve.id).full
    assert w.app.users.get_user(principal("svc", roles=("service",)), eve.id).full
    public = w.app.users.get_user(principal("kc-frank"), eve.id)
    assert public.user == eve and not public.full


def test_get_user_of_an_unknown_or_deleted_user_is_not_found(w: World) -> None:
    gone = w.app.users.me(principal("kc-gone"))
    with w.uow() as uow:
        uow.users.save(replace(gone, state=UserState.DELETED))
        uow.commit()
    for user_id in (gone.id, "0190f0a0-0000-7000-8000-000000000000"):
        assert failure(lambda: w.app.users.get_user(principal("kc-x"), user_id)) == Failure(  # noqa: B023
            grpc.StatusCode.NOT_FOUND, "USER_NOT_FOUND"
        )


def test_list_users_walks_every_user_once_in_windows() -> None:
    w = world(default_page_size=2, max_page_size=3)
    created = [w.app.users.me(principal(f"kc-user{i}")).id for i in range(7)]
    commits = w.store.commits
    seen: list[str] = []
    sizes: list[int] = []
    token = ""
    while True:
        users, token = w.app.users.list_users(0, token, "", None)  # 0: the default size
        seen.extend(u.id for u in users)
        sizes.append(len(users))
        if not token:
            break
    assert seen == sorted(created) and sizes == [2, 2, 2, 1]
    assert len(w.app.users.list_users(10, "", "", None)[0]) == 3  # capped at the maximum
    assert w.store.commits == commits  # listing creates no one


def test_list_users_filters_by_email_suffix_and_state(w: World) -> None:
    acme = w.app.users.me(principal("kc-a", email="a@acme.io"))
    w.app.users.me(principal("kc-b", email="b@other.io"))
    gone = w.app.users.me(principal("kc-c", email="c@acme.io"))
    with w.uow() as uow:
        uow.users.save(replace(gone, state=UserState.DELETED))
        uow.commit()
    assert [u.id for u in w.app.users.list_users(0, "", "@ACME.io", UserState.ACTIVE)[0]] == [acme.id]
    assert [u.id for u in w.app.users.list_users(0, "", "", UserState.DELETED)[0]] == [gone.id]


def test_list_users_refuses_bad_sizes_and_tokens_of_other_queries(w: World) -> None:
    for i in range(3):
        w.app.users.me(principal(f"kc-p{i}"))
    _, token = w.app.users.list_users(1, "", "", None)
    assert failure(lambda: w.app.users.list_users(-1, "", "", None)).fields == ["page_size"]
    for bad in ("garbage!", token[:-3]):
        assert failure(lambda: w.app.users.list_users(1, bad, "", None)).fields == ["page_token"]  # noqa: B023
    other_filter = failure(lambda: w.app.users.list_users(1, token, "@x.io", None))
    assert (other_filter.code, other_filter.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])

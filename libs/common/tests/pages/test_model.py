"""Page roles, member rules and the invitation state machine, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devinsider_common import errors
from devinsider_common.pages.model import (
    Invitation,
    InvitationState,
    Member,
    check_can_assign,
    check_can_manage,
    check_keeps_an_owner,
    hash_token,
    new_token,
    require,
)
from devinsider_common.pages.roles import PagePermission, PageRole, allows

NOW = datetime(2026, 11, 25, tzinfo=UTC)
P = PagePermission


@pytest.mark.parametrize(
    ("role", "granted"),
    [
        (PageRole.OWNER, set(P)),
        (PageRole.ADMIN, {P.VIEW_PRIVATE, P.EDIT, P.MANAGE_MEMBERS, P.MANAGE_BILLING}),
        (PageRole.EDITOR, {P.VIEW_PRIVATE, P.EDIT}),
        (PageRole.VIEWER, {P.VIEW_PRIVATE}),
        (None, set()),
    ],
)
def test_role_permissions(role: PageRole | None, granted: set[PagePermission]) -> None:
    assert {p for p in P if allows(role, p)} == granted


def test_require_refuses_strangers_and_weak_roles() -> None:
    with pytest.raises(errors.PermissionDenied):
        require(None, P.VIEW_PRIVATE)
    with pytest.raises(errors.PermissionDenied):
        require(Member("p", "s", PageRole.EDITOR), P.MANAGE_MEMBERS)
    assert require(Member("p", "s", PageRole.ADMIN), P.MANAGE_MEMBERS) is PageRole.ADMIN


def test_nobody_grants_above_their_role_or_manages_a_higher_one() -> None:
    check_can_assign(PageRole.ADMIN, PageRole.ADMIN)
    with pytest.raises(errors.PermissionDenied):
        check_can_assign(PageRole.ADMIN, PageRole.OWNER)
    with pytest.raises(errors.PermissionDenied):
        check_can_manage(PageRole.ADMIN, Member("p", "o", PageRole.OWNER))


def test_the_last_owner_stays() -> None:
    owner = Member("p", "o", PageRole.OWNER)
    with pytest.raises(errors.FailedPrecondition):
        check_keeps_an_owner(owner, PageRole.ADMIN, owner_count=1)
    with pytest.raises(errors.FailedPrecondition):
        check_keeps_an_owner(owner, None, owner_count=1)
    check_keeps_an_owner(owner, None, owner_count=2)
    check_keeps_an_owner(Member("p", "v", PageRole.VIEWER), None, owner_count=1)


BOB = Member("p", "kc-bob", PageRole.EDITOR, user="users/u-bob", email="bob@acme.io")
EVE = Member("p", "kc-eve", PageRole.EDITOR, user="users/u-eve", email="eve@acme.io")


def test_a_member_is_named_by_its_users_id_and_by_its_subject_without_one() -> None:
    assert BOB.id == "u-bob"
    assert Member("p", "kc-carol", PageRole.VIEWER).id == "kc-carol"


def _invitation(expires_in: timedelta = timedelta(days=7)) -> tuple[Invitation, str]:
    token, token_hash = new_token()
    return Invitation("i", "p", "bob@acme.io", PageRole.EDITOR, "o", token_hash, NOW, NOW + expires_in), token


def test_tokens_are_stored_hashed() -> None:
    invitation, token = _invitation()
    assert invitation.token_hash == hash_token(token) and token not in invitation.token_hash


def test_accept_needs_the_token_and_the_invited_email() -> None:
    invitation, token = _invitation()
    with pytest.raises(errors.PermissionDenied):
        invitation.accept("forged", BOB, True, NOW)
    with pytest.raises(errors.PermissionDenied):
        invitation.accept(token, EVE, True, NOW)
    accepted = invitation.accept(token, replace(BOB, email="Bob@Acme.io"), True, NOW)
    assert (accepted.state, accepted.member_id, accepted.closed_at) == (InvitationState.ACCEPTED, "u-bob", NOW)


def test_accept_needs_a_verified_email() -> None:
    invitation, token = _invitation()
    with pytest.raises(errors.FailedPrecondition) as raised:
        invitation.accept(token, BOB, False, NOW)
    assert raised.value.reason == "EMAIL_NOT_VERIFIED"
    with pytest.raises(errors.PermissionDenied):  # the other address is the more telling refusal
        invitation.accept(token, EVE, False, NOW)


def test_an_expired_invitation_cannot_be_accepted() -> None:
    invitation, token = _invitation(expires_in=timedelta(seconds=-1))
    with pytest.raises(errors.FailedPrecondition):
        invitation.accept(token, BOB, True, NOW)
    assert invitation.expire(NOW).state is InvitationState.EXPIRED
    with pytest.raises(errors.FailedPrecondition):
        _invitation()[0].expire(NOW)


@pytest.mark.parametrize("first", ["accept", "decline", "revoke", "expire"])
@pytest.mark.parametrize("second", ["accept", "decline", "revoke", "expire"])
def test_only_pending_invitations_move(first: str, second: str) -> None:
    invitation, token = _invitation(expires_in=timedelta(0) if "expire" in (first, second) else timedelta(days=1))
    later = NOW + timedelta(seconds=1)

    def move(inv: Invitation, step: str) -> Invitation:
        if step == "accept":
            return inv.accept(token, BOB, True, NOW - timedelta(seconds=1))
        return getattr(inv, step)(later)  # type: ignore[no-any-return]

    closed = move(invitation, first)
    assert closed.state is not InvitationState.PENDING
    with pytest.raises(errors.FailedPrecondition):
        move(closed, second)

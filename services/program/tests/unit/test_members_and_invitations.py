"""Members and invitations of a program (the shared page use cases on the program's unit of work,
no I/O): invite, accept with the mailed token and the invited e-mail, decline, revoke, expiry, the
last owner, and the access check other services ask."""

from __future__ import annotations

import grpc

from devinsider_common.pages.model import InvitationState
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import principal

from ..fakes import published
from ..world import build_world

DENIED = grpc.StatusCode.PERMISSION_DENIED
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
EXISTS = grpc.StatusCode.ALREADY_EXISTS


def test_invite_then_accept_with_the_token_and_the_invited_email() -> None:
    world = build_world()
    carol = principal("kc-carol", email="Carol@Example.com")
    invitation_id, token = world.invite(world.published_id, "CAROL@example.com", PageRole.EDITOR)
    sent = published(world.store, "invitation_sent")[-1]
    assert (sent.args[2], sent.args[3].subject) == ("Azure Partners", "kc-owner")  # the mail's page and inviter
    mine, _ = world.app.invitations.list(carol, None, 0, "", None)
    assert [(i.id, i.state, i.email) for i in mine] == [(invitation_id, InvitationState.PENDING, "carol@example.com")]
    assert world.app.programs.titles([i.page_id for i in mine]) == {world.published_id: "Azure Partners"}
    accept = world.app.invitations.accept
    stranger = world.who("stranger")  # the right token, the wrong person
    assert failure(lambda: accept(stranger, world.published_id, invitation_id, token)) == Failure(
        DENIED, "INVITATION_EMAIL_MISMATCH"
    )
    assert failure(lambda: accept(carol, world.published_id, invitation_id, token + "x")) == Failure(
        DENIED, "INVITATION_TOKEN_INVALID"
    )
    accepted = accept(carol, world.published_id, invitation_id, token)
    assert accepted.state is InvitationState.ACCEPTED
    assert failure(lambda: accept(carol, world.published_id, invitation_id, token)) == Failure(
        PRECONDITION, "INVITATION_NOT_PENDING"
    )
    members, _ = world.app.members.list(carol, world.published_id, 0, "", None)
    roles = {m.subject: m.role for m in members}
    assert roles["kc-carol"] is PageRole.EDITOR and len(roles) == 5
    added = published(world.store, "member_added")[-1]
    assert added.args[0].subject == "kc-carol" and added.args[1].id == invitation_id


def test_decline_revoke_duplicates_and_the_role_ceiling() -> None:
    world = build_world()
    owner, admin = world.who("owner"), world.who("admin")
    invitation_id, token = world.invite(world.published_id, "dan@example.com", PageRole.VIEWER)
    twice = failure(lambda: world.invite(world.published_id, "Dan@Example.com", PageRole.VIEWER))
    assert twice == Failure(EXISTS, "INVITATION_PENDING")
    member = failure(lambda: world.invite(world.published_id, "kc-viewer@example.com", PageRole.VIEWER))
    assert member == Failure(EXISTS, "ALREADY_MEMBER")
    ceiling = failure(lambda: world.invite(world.published_id, "eve@example.com", PageRole.OWNER, who="admin"))
    assert ceiling == Failure(DENIED, "ROLE_ABOVE_OWN")  # an admin never hands out the owner role
    declined = world.app.invitations.decline(None, world.published_id, invitation_id, token)  # from the mail
    assert declined.state is InvitationState.DECLINED
    other_id, _ = world.invite(world.published_id, "fay@example.com", PageRole.VIEWER)
    assert world.app.invitations.revoke(admin, world.published_id, other_id).state is InvitationState.REVOKED
    assert failure(lambda: world.app.invitations.revoke(owner, world.published_id, invitation_id)) == Failure(
        PRECONDITION, "INVITATION_NOT_PENDING"
    )
    assert failure(lambda: world.app.invitations.decline(owner, world.published_id, other_id, "")).code == DENIED
    found, _ = world.app.invitations.list(owner, world.published_id, 0, "", InvitationState.DECLINED)
    assert [i.id for i in found] == [invitation_id]
    assert failure(lambda: world.invite(world.published_id, "not-an-email", PageRole.VIEWER)).fields == [
        "invitation.email"
    ]
    assert failure(lambda: world.invite(world.other_id, "x@example.com", PageRole.VIEWER)).code == DENIED


def test_the_expiry_job_closes_due_invitations() -> None:
    world = build_world()
    invitation_id, token = world.invite(world.published_id, "gus@example.com", PageRole.VIEWER)
    assert world.app.invitations.expire_due() == 0  # not due yet (a week)
    world.clock.advance(hours=world.settings.invitation_ttl_hours + 1)
    assert world.app.invitations.expire_due() == 1
    found, _ = world.app.invitations.list(world.who("owner"), world.published_id, 0, "", InvitationState.EXPIRED)
    assert [i.id for i in found] == [invitation_id]
    gus = principal("kc-gus", email="gus@example.com")
    assert failure(lambda: world.app.invitations.accept(gus, world.published_id, invitation_id, token)).code == (
        PRECONDITION
    )


def test_the_last_owner_stays_and_roles_change_within_the_callers_rank() -> None:
    world = build_world()
    owner, admin = world.who("owner"), world.who("admin")
    members = world.app.members
    last_owner = Failure(PRECONDITION, "LAST_OWNER")
    assert failure(lambda: members.leave(owner, world.published_id)) == last_owner
    assert failure(lambda: members.change_role(owner, world.published_id, "kc-owner", PageRole.ADMIN)) == last_owner
    assert failure(lambda: members.remove(owner, world.published_id, "kc-owner")) == last_owner
    outranked = failure(lambda: members.remove(admin, world.published_id, "kc-owner"))
    assert outranked == Failure(DENIED, "MEMBER_OUTRANKS_CALLER")  # an admin never touches an owner
    promoted = members.change_role(owner, world.published_id, "kc-admin", PageRole.OWNER)
    assert promoted.role is PageRole.OWNER
    assert published(world.store, "member_updated")[-1].args == (promoted, PageRole.ADMIN)
    members.leave(owner, world.published_id)  # another owner remains
    assert failure(lambda: members.list(owner, world.published_id, 0, "", None)).code == DENIED
    left = published(world.store, "member_removed")[-1]
    assert (left.args[0].subject, left.args[1]) == ("kc-owner", True)
    nobody = failure(lambda: members.change_role(admin, world.published_id, "nobody", PageRole.VIEWER))
    assert nobody == Failure(grpc.StatusCode.NOT_FOUND, "MEMBER_NOT_FOUND")


def test_check_page_access_answers_from_membership() -> None:
    world = build_world()
    check = world.app.members.check_access
    assert check(world.published_id, "kc-editor", PagePermission.EDIT) == (True, PageRole.EDITOR)
    assert check(world.published_id, "kc-editor", PagePermission.MANAGE_MEMBERS) == (False, PageRole.EDITOR)
    assert check(world.published_id, "kc-other_owner", PagePermission.VIEW_PRIVATE) == (False, None)
    assert check("unknown", "kc-owner", PagePermission.DELETE) == (False, None)

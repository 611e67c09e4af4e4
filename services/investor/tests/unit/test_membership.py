"""Members and invitations of investor pages (the shared page use cases on this service's unit of
work): the invitation state machine, tokens, last-owner protection, expiry, and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import grpc
import pytest

from devinsider_common import errors
from devinsider_common.pages.model import InvitationState
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure, failure_of
from devinsider_common.testing.tokens import principal
from investor_service.domain.model import Profile
from investor_service.domain.query import InvestorQuery

from ..fakes import MEMBER_ROLES, Page, World, build_page, mailed_token, person, unit_settings, world

FP = grpc.StatusCode.FAILED_PRECONDITION
OK = grpc.StatusCode.OK
P = grpc.StatusCode.PERMISSION_DENIED
N = grpc.StatusCode.NOT_FOUND
F = grpc.StatusCode.FAILED_PRECONDITION
MISSING = "01900000-0000-7000-8000-000000000000"


def test_invite_then_accept_with_the_token_and_the_matching_email() -> None:
    w = world()
    page = build_page(w, "p", roles=())
    owner = person("p-owner")
    invitation = w.app.invitations.create(owner, page.id, " Bob@Example.com ", PageRole.EDITOR, " Welcome ")
    assert (invitation.email, invitation.state, invitation.inviter) == (
        "bob@example.com",
        InvitationState.PENDING,
        "p-owner",
    )
    assert invitation.message == "Welcome" and invitation.expires_at == w.clock.now + timedelta(
        hours=w.settings.invitation_ttl_hours
    )
    [sent] = w.events("InvitationSent")
    assert sent.details["page_title"] == "P Capital"
    token = mailed_token(w.store, "bob@example.com")
    accept = w.app.invitations.accept
    wrong_person = failure(lambda: accept(person("kc-eve"), page.id, invitation.id, token))
    assert wrong_person == Failure(P, "INVITATION_EMAIL_MISMATCH")
    forged = failure(lambda: accept(person("kc-bob", email="bob@example.com"), page.id, invitation.id, token + "x"))
    assert forged == Failure(P, "INVITATION_TOKEN_INVALID")
    w.clock.advance(minutes=1)
    accepted = accept(person("kc-bob", email="BOB@example.com"), page.id, invitation.id, token)
    assert (accepted.state, accepted.member_id, accepted.closed_at) == (InvitationState.ACCEPTED, "kc-bob", w.clock.now)
    twice = failure(lambda: accept(person("kc-bob", email="bob@example.com"), page.id, invitation.id, token))
    assert twice == Failure(FP, "INVITATION_NOT_PENDING")  # tokens are one-time
    members, _ = w.app.members.list(owner, page.id, 0, "", None)
    assert {(m.subject, m.role) for m in members} == {("p-owner", PageRole.OWNER), ("kc-bob", PageRole.EDITOR)}
    assert [e.kind for e in w.events()[-2:]] == ["MemberAdded", "InvitationChanged"]


def test_an_unverified_email_cannot_accept() -> None:
    w = world()
    page = build_page(w, "p", roles=(), invite=True)
    unverified = principal("kc-pending", MEMBER_ROLES, page.pending_email, email_verified=False)
    got = failure(lambda: w.app.invitations.accept(unverified, page.id, page.pending_invitation, page.pending_token))
    assert got == Failure(FP, "EMAIL_NOT_VERIFIED")


def test_decline_with_the_token_anonymously_or_as_the_signed_in_invitee() -> None:
    w = world()
    page = build_page(w, "p", roles=())
    owner = person("p-owner")
    first = w.app.invitations.create(owner, page.id, "dan@example.com", PageRole.VIEWER, "")
    token = mailed_token(w.store, "dan@example.com")
    assert failure(lambda: w.app.invitations.decline(None, page.id, first.id, "")).code == P
    declined = w.app.invitations.decline(None, page.id, first.id, token)
    assert declined.state is InvitationState.DECLINED
    second = w.app.invitations.create(owner, page.id, "dan@example.com", PageRole.VIEWER, "")  # a new one may be sent
    assert w.app.invitations.decline(person("dan"), page.id, second.id, "").state is InvitationState.DECLINED


def test_every_transition_out_of_a_closed_state_is_failed_precondition() -> None:
    w = world()
    page = build_page(w, "p", roles=())
    owner = person("p-owner")
    closed: dict[str, tuple[str, str]] = {}
    for state, who in (("accepted", "a"), ("declined", "d"), ("revoked", "r")):
        invitation = w.app.invitations.create(owner, page.id, f"{who}@example.com", PageRole.VIEWER, "")
        closed[state] = (invitation.id, mailed_token(w.store, f"{who}@example.com"))
    w.app.invitations.accept(person("a"), page.id, *closed["accepted"])
    w.app.invitations.decline(None, page.id, *closed["declined"])
    w.app.invitations.revoke(owner, page.id, closed["revoked"][0])
    invitees = {"accepted": "a", "declined": "d", "revoked": "r"}
    verbs: dict[str, Callable[[str, str, str], object]] = {
        "accept": lambda who, i, t: w.app.invitations.accept(person(who), page.id, i, t),
        "decline": lambda who, i, t: w.app.invitations.decline(None, page.id, i, t),
        "revoke": lambda who, i, t: w.app.invitations.revoke(owner, page.id, i),
    }
    for state, (invitation_id, token) in closed.items():
        for verb, call in verbs.items():
            got = failure(lambda c=call, s=state, i=invitation_id, t=token: c(invitees[s], i, t))  # type: ignore[misc]
            assert got == Failure(FP, "INVITATION_NOT_PENDING"), (state, verb)


def test_one_pending_invitation_per_email_and_none_for_members() -> None:
    w = world()
    page = build_page(w, "p", roles=("admin",))
    owner = person("p-owner")
    w.app.invitations.create(owner, page.id, "eve@example.com", PageRole.VIEWER, "")
    for email, reason in (("EVE@example.com", "INVITATION_PENDING"), ("p-admin@example.com", "ALREADY_MEMBER")):
        got = failure(lambda e=email: w.app.invitations.create(owner, page.id, e, PageRole.VIEWER, ""))  # type: ignore[misc]
        assert got == Failure(grpc.StatusCode.ALREADY_EXISTS, reason)


def test_invitation_input_and_role_ceiling() -> None:
    w = world()
    page = build_page(w, "p", roles=("admin",))
    admin = person("p-admin")
    bad = failure(lambda: w.app.invitations.create(admin, page.id, "nope", PageRole.VIEWER, "x" * 1001))
    assert sorted(bad.fields) == ["invitation.email", "invitation.message"]
    above = failure(lambda: w.app.invitations.create(admin, page.id, "ok@example.com", PageRole.OWNER, ""))
    assert above == Failure(P, "ROLE_ABOVE_OWN")


def test_invitations_per_page_are_rate_limited_when_configured() -> None:
    w = world(unit_settings(invitation_rate_limit=2, invitation_rate_window_seconds=3600))
    page = build_page(w, "p", roles=())
    owner = person("p-owner")
    for index in range(2):
        w.app.invitations.create(owner, page.id, f"x{index}@example.com", PageRole.VIEWER, "")
    third = failure(lambda: w.app.invitations.create(owner, page.id, "x2@example.com", PageRole.VIEWER, ""))
    assert (third.code, third.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "INVITATIONS_RATE_LIMITED")


def test_the_last_owner_is_protected_and_admins_never_touch_owners() -> None:
    w = world()
    page = build_page(w, "p", roles=("admin",))
    owner, admin = person("p-owner"), person("p-admin")
    for attempt in (
        lambda: w.app.members.change_role(owner, page.id, "p-owner", PageRole.ADMIN),
        lambda: w.app.members.remove(owner, page.id, "p-owner"),
        lambda: w.app.members.leave(owner, page.id),
    ):
        assert failure(attempt) == Failure(FP, "LAST_OWNER")
    outranked = failure(lambda: w.app.members.change_role(admin, page.id, "p-owner", PageRole.VIEWER))
    assert outranked == Failure(P, "MEMBER_OUTRANKS_CALLER")
    promoted = w.app.members.change_role(owner, page.id, "p-admin", PageRole.OWNER)
    assert promoted.role is PageRole.OWNER
    assert w.app.members.change_role(owner, page.id, "p-admin", PageRole.OWNER) == promoted  # no change
    w.app.members.leave(owner, page.id)  # two owners: one may leave
    members, _ = w.app.members.list(admin, page.id, 0, "", None)
    assert [(m.subject, m.role) for m in members] == [("p-admin", PageRole.OWNER)]
    assert [e.kind for e in w.events() if e.kind.startswith("Member")][-2:] == ["MemberUpdated", "MemberRemoved"]
    assert w.events("MemberRemoved")[-1].details == {"left": True}


def test_members_list_by_role_in_windows() -> None:
    w = world()
    page = build_page(w, "p", roles=("admin", "editor", "viewer"))
    owner = person("p-owner")
    viewers, token = w.app.members.list(owner, page.id, 0, "", PageRole.VIEWER)
    assert ([m.subject for m in viewers], token) == (["p-viewer"], "")
    first, token = w.app.members.list(owner, page.id, 2, "", None)
    rest, last = w.app.members.list(owner, page.id, 2, token, None)
    assert len(first) == 2 and last == "" and {m.subject for m in first + rest} == set(page.members.values())


def test_the_expiry_job_closes_overdue_invitations() -> None:
    w = world(unit_settings(invitation_ttl_hours=1))
    page = build_page(w, "p", roles=(), invite=True)
    w.clock.advance(hours=2)
    late = person("late", email=page.pending_email)
    past = failure(lambda: w.app.invitations.accept(late, page.id, page.pending_invitation, page.pending_token))
    assert past == Failure(FP, "INVITATION_EXPIRED")  # past its expiry, even before the job ran
    assert w.app.invitations.expire_due() == 1
    assert w.app.invitations.expire_due() == 0
    mine, _ = w.app.invitations.list(late, None, 0, "", None)
    assert [(i.id, i.state) for i in mine] == [(page.pending_invitation, InvitationState.EXPIRED)]
    revoke = failure(lambda: w.app.invitations.revoke(person("p-owner"), page.id, page.pending_invitation))
    assert revoke == Failure(FP, "INVITATION_NOT_PENDING")


def test_ids_of_one_page_under_another_pages_name_find_nothing() -> None:
    """The owner of Q manages Q; P's member and invitation ids under Q's id are NOT_FOUND, and P is untouched."""
    w = world()
    mine = build_page(w, "q", roles=())
    theirs = build_page(w, "p", invite=True)
    q_owner = person("q-owner")
    calls: list[Callable[[], object]] = [
        lambda: w.app.invitations.revoke(q_owner, mine.id, theirs.pending_invitation),
        lambda: w.app.members.remove(q_owner, mine.id, "p-viewer"),
        lambda: w.app.members.change_role(q_owner, mine.id, "p-admin", PageRole.VIEWER),
        lambda: w.app.invitations.decline(q_owner, mine.id, theirs.pending_invitation, theirs.pending_token),
    ]
    for call in calls:
        assert failure(call).code == N
    members, _ = w.app.members.list(person("p-owner"), theirs.id, 0, "", None)
    assert {(m.subject, m.role) for m in members} == {
        ("p-owner", PageRole.OWNER),
        ("p-admin", PageRole.ADMIN),
        ("p-editor", PageRole.EDITOR),
        ("p-viewer", PageRole.VIEWER),
    }
    pending, _ = w.app.invitations.list(person("p-owner"), theirs.id, 0, "", InvitationState.PENDING)
    assert [i.id for i in pending] == [theirs.pending_invitation]


def test_unknown_pages_deny_strangers_before_telling_they_do_not_exist() -> None:
    w = world()
    stranger = failure(lambda: w.app.members.list(person("kc-stranger"), MISSING, 0, "", None))
    staff = failure(lambda: w.app.members.list(person("kc-staff", ("admin",)), MISSING, 0, "", None))
    assert (stranger.code, staff.code) == (P, N)


# Who may call which page use case. Anonymous callers and realm roles (CreateInvestor, the service-only
# RPCs) are refused by the server's access options before any use case: tests/integration checks those.
CALLERS = ("isv", "guest", "stranger", "staff", "service", "owner", "admin", "editor", "viewer", "other")
REALM = {
    "isv": ("kc-isv", ("isv",)),
    "guest": ("kc-guest", ("guest",)),
    "stranger": ("kc-stranger", ("investor",)),
    "staff": ("kc-staff", ("admin",)),
    "service": ("service-matching", ("service",)),
    "other": ("q-owner", ("investor",)),  # owner of page Q, calling with page P's ids
}
UseCase = Callable[[World, Page, str], object]


def _who(caller: str) -> tuple[str, tuple[str, ...]]:
    return REALM.get(caller, (f"p-{caller}", ("investor",)))


USE_CASES: dict[str, UseCase] = {
    "GetInvestor": lambda w, p, s: w.app.investors.get(person(*_who(s)), p.id),
    "ListInvestors": lambda w, p, s: w.app.investors.list_investors(person(*_who(s)), InvestorQuery(), False, 0, ""),
    "UpdateInvestor": lambda w, p, s: w.app.investors.update(
        person(*_who(s)), p.id, Profile(tagline="Seed to series A"), frozenset({"tagline"})
    ),
    "DeleteInvestor": lambda w, p, s: w.app.investors.delete(person(*_who(s)), p.id),
    "ListMembers": lambda w, p, s: w.app.members.list(person(*_who(s)), p.id, 0, "", None),
    "UpdateMember": lambda w, p, s: w.app.members.change_role(person(*_who(s)), p.id, "p-viewer", PageRole.EDITOR),
    "DeleteMember": lambda w, p, s: w.app.members.remove(person(*_who(s)), p.id, "p-viewer"),
    "LeaveInvestor": lambda w, p, s: w.app.members.leave(person(*_who(s)), p.id),
    "CreateInvitation": lambda w, p, s: w.app.invitations.create(
        person(*_who(s)), p.id, "newcomer@example.com", PageRole.VIEWER, ""
    ),
    "ListInvitations": lambda w, p, s: w.app.invitations.list(person(*_who(s)), p.id, 0, "", None),
    "RevokeInvitation": lambda w, p, s: w.app.invitations.revoke(person(*_who(s)), p.id, p.pending_invitation),
    # The right token, the wrong person.
    "AcceptInvitation": lambda w, p, s: w.app.invitations.accept(
        person(*_who(s)), p.id, p.pending_invitation, p.pending_token
    ),
    # Without the mailed token only the signed-in invitee may decline; none of these callers is.
    "DeclineInvitation": lambda w, p, s: w.app.invitations.decline(person(*_who(s)), p.id, p.pending_invitation, ""),
}

#                        isv guest strngr staff svc owner admin editor viewer other
MATRIX: dict[str, tuple[grpc.StatusCode, ...]] = {
    "GetInvestor":       (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "ListInvestors":     (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "UpdateInvestor":    (P,  P,  P,  OK, P,  OK, OK, OK, P,  P),
    "DeleteInvestor":    (P,  P,  P,  OK, P,  OK, P,  P,  P,  P),
    "ListMembers":       (P,  P,  P,  OK, P,  OK, OK, OK, OK, P),
    "UpdateMember":      (P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "DeleteMember":      (P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "LeaveInvestor":     (N,  N,  N,  N,  N,  F,  OK, OK, OK, N),
    "CreateInvitation":  (P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "ListInvitations":   (P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "RevokeInvitation":  (P,  P,  P,  OK, P,  OK, OK, P,  P,  P),
    "AcceptInvitation":  (P,  P,  P,  P,  P,  P,  P,  P,  P,  P),
    "DeclineInvitation": (P,  P,  P,  P,  P,  P,  P,  P,  P,  P),
}  # fmt: skip


@pytest.mark.parametrize("rpc", sorted(MATRIX))
def test_permission_matrix(rpc: str) -> None:
    """Each caller on a fresh page (destructive calls never influence the next case)."""
    assert set(MATRIX) == set(USE_CASES) and all(len(row) == len(CALLERS) for row in MATRIX.values())
    wrong: list[str] = []
    for caller, expected in zip(CALLERS, MATRIX[rpc], strict=True):
        w = world()
        build_page(w, "q", roles=())  # the other organisation's page, owned by q-owner
        page = build_page(w, "p", invite=True)
        try:
            USE_CASES[rpc](w, page, caller)
            code = OK
        except errors.DomainError as error:
            code = failure_of(error).code
        if code != expected:
            wrong.append(f"{caller}: got {code.name}, expected {expected.name}")
    assert not wrong, f"{rpc}: " + "; ".join(wrong)

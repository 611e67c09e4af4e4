"""The authorization matrix of the whole suite, GENERATED from the descriptors.

1. Policy level: every RPC of the services (enumerated from gen/devinsider.binpb, so a new RPC is
   covered, and fails, without touching this file) is called directly over gRPC, with a minimal
   request built from its descriptor, by every kind of caller: anonymous, a token of each realm role,
   an expired, a garbage and a forged token. What is expected follows from the RPC's
   `devinsider.common.v1.access` option alone: UNAUTHENTICATED (TOKEN_*) without a valid token on a
   non-public RPC and with a bad token everywhere; PERMISSION_DENIED (ROLE_MISSING / SERVICE_ONLY) for a
   role outside the policy, before any validation of the (empty) request; anything but a policy
   refusal for an admitted caller.
2. Page level: every RPC with an HTTP binding on a page resource (`companies/*`, `investors/*`,
   `programs/*` and everything under them, in any service: the bindings are read from the
   descriptors, additional bindings included) is called on organisation A's resource by A's members of
   each page role, a non-member, B's owner, A's owner with B's page ids and A's owner with B's child ids
   under A's page. The page permission each RPC needs is the one table here (`PAGE_RULES`); an RPC
   with a page binding and no rule fails. The per-service matrices
   (services/*/tests/integration/test_permission_matrix.py, billing's test_permissions.py) pin every
   exact code on a single service with fakes; this one runs the real six behind their real neighbours.
3. User level: every RPC bound to a `users/*` resource has a rule (`USER_RULES`); the user's own ones (the
   notification service's) are called on the caller's id, on `users/me` and on another user's id: the last is
   PERMISSION_DENIED `NOT_YOUR_USER`, the others are admitted.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from devinsider.common.v1 import access_pb2, page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider.contact.v1 import contact_pb2
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider.user.v1 import user_pb2, user_pb2_grpc
from devinsider_common.auth.dev_issuer import ensure_dev_keys, issue_token
from devinsider_common.ids import new_id
from devinsider_common.pages.model import Member
from devinsider_common.pages.repositories import MemberRepository
from devinsider_common.pages.roles import PagePermission, PageRole, allows
from devinsider_common.pages.tables import define_page_tables

from .authorization import PAGE_COLLECTIONS, Binding, Outcome, Rpc, call, load_rpcs, set_field
from .suite_stack import ISSUER, SERVICES, SuiteStack

RPCS = load_rpcs()
OK = grpc.StatusCode.OK
UNAUTH = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
# The reasons with which the shared interceptor refuses a caller because of the RPC's policy.
POLICY_DENIALS = {"ROLE_MISSING", "SERVICE_ONLY", "NO_POLICY"}
# An organisation here has four members and an invitation on each page, above the free tier's seats: the matrix
# is about who may call what, so its stack's free tier has no seat limit (seats: tests/e2e/test_entitlements.py).
SUITE_BILLING = {"free_tier_seats": 0}
PAGE_DENIED = "PAGE_PERMISSION_DENIED"

# ---------------------------------------------------------------------------------------------------
# 1. Policy level
# ---------------------------------------------------------------------------------------------------

REALM_ROLES = {
    "isv": access_pb2.ROLE_ISV,
    "investor": access_pb2.ROLE_INVESTOR,
    "program": access_pb2.ROLE_PROGRAM,
    "guest": access_pb2.ROLE_GUEST,
    "admin": access_pb2.ROLE_ADMIN,
    "service": access_pb2.ROLE_SERVICE,
}
BAD_TOKENS = ("expired", "garbage", "forged")
CALLERS = ("anonymous", *REALM_ROLES, *BAD_TOKENS)


@dataclass(frozen=True)
class Expectation:
    admitted: bool
    code: grpc.StatusCode = OK  # when refused
    reason: str = ""  # when refused: the exact reason, or a prefix ending with `_`

    def check(self, outcome: Outcome) -> None:
        if self.admitted:
            refused_by_policy = outcome.code == UNAUTH and outcome.reason.startswith("TOKEN_")
            refused_by_policy |= outcome.code == DENIED and outcome.reason in POLICY_DENIALS
            assert not refused_by_policy, f"admitted caller refused by the policy: {outcome}"
            return
        assert outcome.code == self.code, f"expected {self.code.name} {self.reason}, got {outcome}"
        if self.reason.endswith("_"):
            assert outcome.reason.startswith(self.reason), outcome
        else:
            assert outcome.reason == self.reason, outcome


def expected(policy: access_pb2.AccessPolicy, caller: str) -> Expectation:
    """What `caller` gets from an RPC with `policy`, from the access option's documented meaning."""
    audience = policy.audience
    assert audience != access_pb2.AUDIENCE_UNSPECIFIED, "the RPC declares no access policy"
    assert audience != access_pb2.AUDIENCE_ROLES or policy.roles, "AUDIENCE_ROLES without roles"
    if caller in BAD_TOKENS:  # a token, when sent, must be valid, even on a public RPC
        return Expectation(False, UNAUTH, "TOKEN_")
    if audience == access_pb2.AUDIENCE_PUBLIC:
        return Expectation(True)
    if caller == "anonymous":
        return Expectation(False, UNAUTH, "TOKEN_MISSING")
    if audience == access_pb2.AUDIENCE_AUTHENTICATED:
        return Expectation(True)
    if audience == access_pb2.AUDIENCE_SERVICE:
        return Expectation(True) if caller == "service" else Expectation(False, DENIED, "SERVICE_ONLY")
    if REALM_ROLES[caller] in policy.roles:
        return Expectation(True)
    return Expectation(False, DENIED, "ROLE_MISSING")


@dataclass
class Suite:
    stack: SuiteStack
    channels: dict[str, grpc.Channel]
    tokens: dict[str, str | None]

    def channel(self, rpc: Rpc) -> grpc.Channel:
        return self.channels[rpc.service]


@pytest.fixture(scope="module")
def suite(suite_stack: SuiteStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    channels = {}
    for short, full in SERVICES.items():
        port = getattr(suite_stack, short).port
        channels[full] = grpc.insecure_channel(f"127.0.0.1:{port}")
    run = uuid.uuid4().hex[:8]
    tokens: dict[str, str | None] = {"anonymous": None, "garbage": "not-a-jwt.at.all"}
    for role in REALM_ROLES:
        tokens[role] = suite_stack.token(f"authz-{role}-{run}", roles=(role,))
    tokens["expired"] = issue_token(
        suite_stack.keys, ISSUER, f"authz-expired-{run}", roles=tuple(REALM_ROLES), ttl_seconds=-3600
    )
    other_keys = tmp_path_factory.mktemp("forger")
    ensure_dev_keys(other_keys)
    tokens["forged"] = issue_token(other_keys, ISSUER, f"authz-forged-{run}", roles=tuple(REALM_ROLES))
    yield Suite(suite_stack, channels, tokens)
    for channel in channels.values():
        channel.close()


def test_every_rpc_of_the_suite_is_enumerated_with_a_policy() -> None:
    """The descriptor set holds the six services, each RPC with a usable policy, none streaming."""
    services = {rpc.service for rpc in RPCS}
    assert services == set(SERVICES.values()), "a service of the descriptor set is not started by suite_stack"
    assert len(RPCS) >= 100
    missing = [rpc.short for rpc in RPCS if rpc.policy.audience == access_pb2.AUDIENCE_UNSPECIFIED]
    assert missing == [], f"RPCs without an access policy: {missing}"
    empty_roles = [
        rpc.short for rpc in RPCS if rpc.policy.audience == access_pb2.AUDIENCE_ROLES and not rpc.policy.roles
    ]
    assert empty_roles == []


POLICY_CASES = [(rpc, caller) for rpc in RPCS for caller in CALLERS]


@pytest.mark.parametrize(("rpc", "caller"), POLICY_CASES, ids=[f"{r.short}-{c}" for r, c in POLICY_CASES])
def test_policy(suite: Suite, rpc: Rpc, caller: str) -> None:
    expectation = expected(rpc.policy, caller)
    outcome = call(suite.channel(rpc), rpc, rpc.request_class(), suite.tokens[caller])
    expectation.check(outcome)


# ---------------------------------------------------------------------------------------------------
# 2. Page level
# ---------------------------------------------------------------------------------------------------

MEMBER_ROLES = {"owner": PageRole.OWNER, "admin": PageRole.ADMIN, "editor": PageRole.EDITOR, "viewer": PageRole.VIEWER}
# Callers on organisation A's resource. Every page caller holds the three organisation realm roles, so
# that only the page check can refuse them on AUTHENTICATED and organisation-role RPCs.
PAGE_CALLERS = (*MEMBER_ROLES, "stranger", "b_owner", "owner_on_b", "owner_b_child")
ORG_ROLES = ("isv", "investor", "program")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
_seq = itertools.count()


@dataclass
class Org:
    """One organisation: a company, an investor and a (draft) program page, with the same members."""

    run: str
    subjects: dict[str, str]  # page role name -> subject
    pages: dict[str, str]  # collection -> page resource name
    tokens: dict[str, str] = field(default_factory=dict)
    invitations: dict[str, tuple[str, str]] = field(default_factory=dict)  # collection -> (name, mailed token)

    def page_id(self, collection: str) -> str:
        return self.pages[collection].split("/", 1)[1]


@dataclass
class World:
    stack: SuiteStack
    suite: Suite
    a: Org
    b: Org
    stranger: str
    children_of_b: dict[str, str]  # child collection -> id of a real child of B (per page collection)

    def token(self, caller: str, org: Org) -> str:
        if caller in MEMBER_ROLES:
            return org.tokens[caller]
        if caller == "stranger":
            return self.stranger
        if caller == "b_owner":
            return self.b.tokens["owner"]
        return self.a.tokens["owner"]  # owner_on_b, owner_b_child: A's owner


def _seed_members(stack: SuiteStack, org: Org) -> None:
    """A's admin, editor and viewer on its three pages, written straight into each page service."""
    tables = define_page_tables(sa.MetaData())
    now = datetime.now(UTC)
    for collection, service in (
        ("companies", stack.company),
        ("investors", stack.investor),
        ("programs", stack.program),
    ):
        with service.engine.begin() as connection:
            members = MemberRepository(connection, tables)
            for role_name, role in MEMBER_ROLES.items():
                if role is PageRole.OWNER:
                    continue
                subject = org.subjects[role_name]
                email = f"{subject}@example.com"
                members.add(Member(org.page_id(collection), subject, role, "", subject, email, now, now))


def new_org(stack: SuiteStack, suite: Suite, invitations: bool = False) -> Org:
    """An organisation created through the services (owner = founder), members seeded directly; with
    `invitations`, a pending invitation on each page and its mailed one-time token (from RabbitMQ)."""
    run = f"{next(_seq)}-{uuid.uuid4().hex[:6]}"
    subjects = {role: f"authz-{role}-{run}" for role in MEMBER_ROLES}
    org = Org(run, subjects, {})
    org.tokens = {role: stack.token(subject, roles=ORG_ROLES) for role, subject in subjects.items()}
    owner = (("authorization", f"Bearer {org.tokens['owner']}"),)
    companies = company_pb2_grpc.CompanyServiceStub(suite.channels[SERVICES["company"]])
    investors = investor_pb2_grpc.InvestorServiceStub(suite.channels[SERVICES["investor"]])
    programs = program_pb2_grpc.ProgramServiceStub(suite.channels[SERVICES["program"]])
    company = company_pb2.Company(display_name=f"Authz Co {run}")
    investor = investor_pb2.Investor(
        display_name=f"Authz Fund {run}",
        category=investor_pb2.INVESTOR_CATEGORY_INSTITUTIONAL,
        investor_type=investor_pb2.INVESTOR_TYPE_VENTURE_CAPITAL,
    )
    program = program_pb2.Program(
        display_name=f"Authz Partners {run}", vendor_name="Vendor", program_type=program_pb2.PROGRAM_TYPE_TECHNOLOGY
    )
    org.pages = {
        "companies": companies.CreateCompany(company_pb2.CreateCompanyRequest(company=company), metadata=owner).name,
        "investors": investors.CreateInvestor(
            investor_pb2.CreateInvestorRequest(investor=investor), metadata=owner
        ).name,
        "programs": programs.CreateProgram(program_pb2.CreateProgramRequest(program=program), metadata=owner).name,
    }
    _seed_members(stack, org)
    if invitations:
        viewer = page_pb2.PAGE_ROLE_VIEWER
        emails = {c: f"invitee-{c}-{run}@example.com" for c in PAGE_COLLECTIONS}
        companies.CreateInvitation(
            company_pb2.CreateInvitationRequest(
                parent=org.pages["companies"], invitation=company_pb2.Invitation(email=emails["companies"], role=viewer)
            ),
            metadata=owner,
        )
        investors.CreateInvitation(
            investor_pb2.CreateInvitationRequest(
                parent=org.pages["investors"],
                invitation=investor_pb2.Invitation(email=emails["investors"], role=viewer),
            ),
            metadata=owner,
        )
        programs.CreateInvitation(
            program_pb2.CreateInvitationRequest(
                parent=org.pages["programs"], invitation=program_pb2.Invitation(email=emails["programs"], role=viewer)
            ),
            metadata=owner,
        )
        templates = {
            "companies": "company_invitation",
            "investors": "investor_invitation",
            "programs": "program_invitation",
        }
        for collection, email in emails.items():
            org.invitations[collection] = stack.broker.invitation_token(email, templates[collection])
    return org


@pytest.fixture(scope="module")
def world(suite: Suite) -> World:
    stack = suite.stack
    a, b = new_org(stack, suite, invitations=True), new_org(stack, suite, invitations=True)
    stranger = stack.token(f"authz-stranger-{a.run}", roles=ORG_ROLES)
    children = {"members": b.subjects["viewer"]}
    for collection in PAGE_COLLECTIONS:
        children[f"{collection}/invitations"] = b.invitations[collection][0].rsplit("/", 1)[1]
    return World(stack, suite, a, b, stranger, children)


@dataclass(frozen=True)
class Target:
    """Whose resource a page case names, and with which ids."""

    org: Org
    collection: str  # the page collection of the binding, e.g. `companies`


Fill = Callable[[Message, Target], None]


@dataclass(frozen=True)
class PageRule:
    """What page permission an RPC needs on the page its resource belongs to.

    `need` None: no page role is enough (staff-only RPCs, the invitee's own, the applying company's).
    `hidden`: refused callers get NOT_FOUND (the design hides the resource, e.g. draft programs).
    `fresh`: allowed callers delete or change the page for good, so every case gets a new organisation A.
    `child`: the id put in the second `*` of the pattern: a new one (allowed callers then learn
    NOT_FOUND, refused ones PERMISSION_DENIED: permission before existence) or the org's real pending
    invitation. `fill` completes the request so that only the page check can refuse it.
    """

    need: PagePermission | None
    hidden: bool = False
    fresh: bool = False
    child: str = "new"
    fill: Fill | None = None
    refusal: str = PAGE_DENIED  # the ErrorInfo reason of a refusal when `need` is None


def _mask(entity: str, path: str, value: str) -> Fill:
    def fill(request: Message, target: Target) -> None:
        setattr(getattr(request, entity), path, value)
        request.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=[path]))  # type: ignore[attr-defined]

    return fill


def _clear_criteria(request: Message, target: Target) -> None:
    request.update_mask.paths.append("criteria")  # type: ignore[attr-defined]


def _set(**values: object) -> Fill:
    def fill(request: Message, target: Target) -> None:
        for dotted, value in values.items():
            set_field(request, dotted.replace("__", "."), value() if callable(value) else value)

    return fill


def _invite(request: Message, target: Target) -> None:
    set_field(request, "invitation.email", f"new-{uuid.uuid4().hex[:8]}@example.com")
    set_field(request, "invitation.role", page_pb2.PAGE_ROLE_VIEWER)


def _accept(request: Message, target: Target) -> None:
    set_field(request, "token", target.org.invitations[target.collection][1])  # the right token, the wrong person


def _apply(request: Message, target: Target) -> None:
    set_field(request, "application.company", target.org.pages["companies"])  # the same organisation's company


def _page_ref(dotted: str) -> Fill:
    """Points `dotted` (a PageRef) at an investor page nobody knows; adds a request id when there is one."""

    def fill(request: Message, target: Target) -> None:
        set_field(request, f"{dotted}.kind", page_pb2.PAGE_KIND_INVESTOR)
        set_field(request, f"{dotted}.name", f"investors/{new_id()}")
        if "request_id" in request.DESCRIPTOR.fields_by_name:
            set_field(request, "request_id", uuid.uuid4().hex)

    return fill


def _checkout(request: Message, target: Target) -> None:
    set_field(request, "checkout.plan", "plans/unknown")  # allowed callers: INVALID_ARGUMENT, nothing is bought
    set_field(request, "checkout.success_url", "https://app.example.com/done")
    set_field(request, "request_id", uuid.uuid4().hex)


_random_investor = _set(target=lambda: f"investors/{new_id()}")


def _contact_request(request: Message, target: Target) -> None:
    """A request to an investor page nobody unlocked: allowed callers learn CONTACT_REQUIRES_UNLOCK."""
    set_field(request, "contact_request.target.name", f"investors/{new_id()}")
    set_field(request, "contact_request.message", "Hello")
    set_field(request, "contact_request.sender_contact.user", "users/nobody")
    set_field(request, "request_id", uuid.uuid4().hex)


VIEW, EDIT, MANAGE, DELETE, BILLING = (
    PagePermission.VIEW_PRIVATE,
    PagePermission.EDIT,
    PagePermission.MANAGE_MEMBERS,
    PagePermission.DELETE,
    PagePermission.MANAGE_BILLING,
)
_MEMBER_RPCS: dict[str, PageRule] = {
    "ListMembers": PageRule(VIEW),
    "UpdateMember": PageRule(MANAGE, fill=_set(member__role=page_pb2.PAGE_ROLE_VIEWER)),
    "DeleteMember": PageRule(MANAGE),
    "CreateInvitation": PageRule(MANAGE, fill=_invite),
    "ListInvitations": PageRule(MANAGE),
    "RevokeInvitation": PageRule(MANAGE),
    # The invitation (its mailed token, or the signed-in invitee) is the credential: no page role is.
    "AcceptInvitation": PageRule(None, child="invitation", fill=_accept, refusal="INVITATION_EMAIL_MISMATCH"),
    "DeclineInvitation": PageRule(None, child="invitation", refusal="INVITATION_TOKEN_INVALID"),
}
# Platform staff (and services) give a page an owner: no page role may, not even the owner's.
_ASSIGN_OWNER = PageRule(None, fill=_set(user="users/nobody"), refusal="ROLE_MISSING")
PAGE_RULES: dict[str, PageRule] = {
    **{f"CompanyService.{name}": rule for name, rule in _MEMBER_RPCS.items()},
    **{f"InvestorService.{name}": rule for name, rule in _MEMBER_RPCS.items()},
    **{f"ProgramService.{name}": rule for name, rule in _MEMBER_RPCS.items()},
    "CompanyService.AssignCompanyOwner": _ASSIGN_OWNER,
    "InvestorService.AssignInvestorOwner": _ASSIGN_OWNER,
    "ProgramService.AssignProgramOwner": _ASSIGN_OWNER,
    "CompanyService.UpdateCompany": PageRule(EDIT, fill=_mask("company", "display_name", "Renamed Co")),
    "CompanyService.DeleteCompany": PageRule(DELETE, fresh=True),
    "CompanyService.UploadCompanyLogo": PageRule(EDIT, fill=_set(body__content_type="image/png", body__data=PNG)),
    "CompanyService.ApproveCompanyClaim": PageRule(None, refusal="ROLE_MISSING"),  # platform staff only
    "CompanyService.RejectCompanyClaim": PageRule(None, fill=_set(reason="no proof"), refusal="ROLE_MISSING"),
    # Leaving: any member; to anyone else the membership does not exist.
    "CompanyService.LeaveCompany": PageRule(VIEW, hidden=True, fresh=True),
    "InvestorService.UpdateInvestor": PageRule(EDIT, fill=_mask("investor", "display_name", "Renamed Fund")),
    "InvestorService.DeleteInvestor": PageRule(DELETE, fresh=True),
    "InvestorService.LeaveInvestor": PageRule(VIEW, hidden=True, fresh=True),
    # A's program is a draft: only its members see it, to the others it does not exist.
    "ProgramService.GetProgram": PageRule(VIEW, hidden=True),
    "ProgramService.UpdateProgram": PageRule(EDIT, fill=_mask("program", "display_name", "Renamed Partners")),
    "ProgramService.DeleteProgram": PageRule(DELETE, fresh=True),
    "ProgramService.PublishProgram": PageRule(EDIT, fresh=True),
    "ProgramService.ArchiveProgram": PageRule(EDIT, fresh=True),
    "ProgramService.LeaveProgram": PageRule(VIEW, hidden=True, fresh=True),
    # Applying needs EDIT on the applying company (here the organisation's own), not a program role.
    "ProgramService.CreateApplication": PageRule(EDIT, fill=_apply),
    "ProgramService.GetApplication": PageRule(VIEW),
    "ProgramService.ListApplications": PageRule(VIEW),
    "ProgramService.ApproveApplication": PageRule(MANAGE),
    "ProgramService.RejectApplication": PageRule(MANAGE, fill=_set(reason="not a fit")),
    "ProgramService.WithdrawApplication": PageRule(None),  # the applying company's editors only
    "MatchingService.GetCriteriaProfile": PageRule(VIEW),
    # An explicit mask: a body with nothing to update is an INVALID_ARGUMENT for anyone (AIP-134), which
    # reveals nothing about the page; the matrix asks about the page role.
    "MatchingService.UpdateCriteriaProfile": PageRule(EDIT, fill=_clear_criteria),
    "MatchingService.ScoreMatch": PageRule(VIEW, fill=_random_investor),
    "MatchingService.ListCompanyMatches": PageRule(VIEW, fill=_set(target_kind=page_pb2.PAGE_KIND_INVESTOR)),
    "MatchingService.ListProgramMatches": PageRule(VIEW),
    "MatchingService.ListInvestorMatches": PageRule(VIEW),
    "MatchingService.ListFavorites": PageRule(VIEW),
    "MatchingService.CreateFavorite": PageRule(EDIT, fill=_page_ref("favorite.page")),
    "MatchingService.DeleteFavorite": PageRule(EDIT),
    "MatchingService.ListBlocks": PageRule(VIEW),
    "MatchingService.CreateBlock": PageRule(EDIT, fill=_page_ref("block.page")),
    "MatchingService.DeleteBlock": PageRule(EDIT),
    "BillingService.ListSubscriptions": PageRule(VIEW),
    "BillingService.GetSubscription": PageRule(VIEW),
    "BillingService.CancelSubscription": PageRule(BILLING),
    # A new subscription id: allowed callers learn NOT_FOUND; members without MANAGE_BILLING are refused first.
    "BillingService.ChangeSubscriptionPlan": PageRule(BILLING, fill=_set(plan="plans/isv-pro-monthly")),
    "BillingService.GetEntitlements": PageRule(VIEW),
    "BillingService.CreateCheckout": PageRule(BILLING, fill=_checkout),
    "BillingService.GetCheckout": PageRule(BILLING),
    "BillingService.GetCreditBalance": PageRule(VIEW),
    "BillingService.ListLedgerEntries": PageRule(BILLING),
    "BillingService.CreateLedgerEntry": PageRule(
        None, refusal="ROLE_MISSING"
    ),  # grants: platform staff and services only
    "BillingService.CreateUnlock": PageRule(BILLING, fill=_page_ref("unlock.target")),
    "BillingService.GetUnlock": PageRule(VIEW),
    "BillingService.ListUnlocks": PageRule(VIEW),
    "BillingService.ListInvoices": PageRule(BILLING),
    "BillingService.GetInvoice": PageRule(BILLING),
    # A contact request is named under its sender: its editors send and withdraw it, its members read it;
    # answering needs MANAGE_MEMBERS on the page it addresses, which no role on the sender gives.
    "ContactService.CreateContactRequest": PageRule(EDIT, fill=_contact_request),
    "ContactService.GetContactRequest": PageRule(VIEW),
    "ContactService.ListContactRequests": PageRule(
        VIEW, fill=_set(direction=contact_pb2.CONTACT_REQUEST_DIRECTION_INCOMING)
    ),
    "ContactService.AcceptContactRequest": PageRule(None, fill=_set(contact_person="users/nobody")),
    "ContactService.DeclineContactRequest": PageRule(None),
    "ContactService.WithdrawContactRequest": PageRule(EDIT),
    "ContactService.ListPageUnlocks": PageRule(VIEW),
    "ContactService.ListConversations": PageRule(VIEW),
}
# Page-bound RPCs whose page role does not decide: public reads (their member-only fields are pinned by
# the per-service tests) and claims, which concern pre-listed pages nobody is a member of.
NOT_PAGE_GUARDED = {
    "CompanyService.GetCompany": "public read",
    "CompanyService.GetCompanyLogo": "public read",
    "CompanyService.ClaimCompany": "claims a pre-listed page: no member yet",
    "InvestorService.GetInvestor": "public read",
}
# Child collections under a page with no real child of B in the world (their ids are unguessable
# UUIDv7 and billing/matching/program check `parent` of the child they load: see the per-service tests).
NO_FOREIGN_CHILD = {
    "subscriptions",
    "checkouts",
    "unlocks",
    "invoices",
    "favorites",
    "blocks",
    "applications",
    "contactRequests",
}


def page_bindings() -> list[tuple[Rpc, Binding]]:
    return [(rpc, b) for rpc in RPCS for b in rpc.bindings if b.collection in PAGE_COLLECTIONS]


def child_collection(binding: Binding) -> str:
    parts = binding.pattern.split("/")
    return parts[2] if len(parts) > 3 and parts[3] == "*" else ""


def _page_cases() -> list[tuple[Rpc, Binding, str]]:
    cases = []
    for rpc, binding in page_bindings():
        if rpc.short in NOT_PAGE_GUARDED:
            continue
        for caller in PAGE_CALLERS:
            if caller == "owner_b_child" and child_collection(binding) in ("", *NO_FOREIGN_CHILD):
                continue
            cases.append((rpc, binding, caller))
    return cases


PAGE_CASES = _page_cases()


def test_every_page_rpc_has_a_page_rule() -> None:
    """A new RPC bound to a page resource fails here until its page permission is declared."""
    bound = {rpc.short for rpc, _ in page_bindings()}
    assert bound - set(PAGE_RULES) - set(NOT_PAGE_GUARDED) == set(), "page RPCs without a rule"
    assert set(PAGE_RULES) | set(NOT_PAGE_GUARDED) <= bound, "rules of RPCs that are gone"
    children = {child_collection(b) for _, b in page_bindings()} - {""}
    assert children - NO_FOREIGN_CHILD == {"members", "invitations"}


def _resource(world: World, org: Org, rpc: Rpc, binding: Binding, rule: PageRule, caller: str) -> str:
    parts = binding.pattern.split("/")
    parts[1] = org.page_id(binding.collection)
    if len(parts) > 3 and parts[3] == "*":
        child = parts[2]
        if caller == "owner_b_child":
            parts[3] = (
                world.b.subjects["viewer"]
                if child == "members"
                else world.b.invitations[binding.collection][0].rsplit("/", 1)[1]
            )
        elif rule.child == "invitation":
            parts[3] = org.invitations[binding.collection][0].rsplit("/", 1)[1]
        else:
            parts[3] = f"authz-none-{new_id()}" if child == "members" else new_id()
    return "/".join(parts)


@pytest.mark.parametrize(
    ("rpc", "binding", "caller"),
    PAGE_CASES,
    ids=[f"{r.short}[{b.collection}]-{c}" for r, b, c in PAGE_CASES],
)
def test_page_permission(world: World, rpc: Rpc, binding: Binding, caller: str) -> None:
    rule = PAGE_RULES.get(rpc.short)
    assert rule is not None, f"{rpc.short} is bound to {binding.pattern} but declares no page rule"
    a = new_org(world.stack, world.suite) if rule.fresh and caller in MEMBER_ROLES else world.a
    org = world.b if caller == "owner_on_b" else a
    request = rpc.request_class()
    set_field(request, binding.field, _resource(world, org, rpc, binding, rule, caller))
    if rule.fill is not None:
        rule.fill(request, Target(org, binding.collection))
    token = a.tokens[caller] if caller in MEMBER_ROLES else world.token(caller, a)
    outcome = call(world.suite.channel(rpc), rpc, request, token)

    if caller == "owner_b_child":  # A's page, B's child: never reached, never revealed as B's
        assert outcome.code in (NOT_FOUND, DENIED), f"A's owner reached B's child: {outcome}"
        return
    allowed = caller in MEMBER_ROLES and rule.need is not None and allows(MEMBER_ROLES[caller], rule.need)
    if allowed:
        assert outcome.code not in (UNAUTH, DENIED), f"{caller} holds {rule.need} but was refused: {outcome}"
    elif rule.hidden:
        assert outcome.code == NOT_FOUND, f"{caller} must not learn that the resource exists: {outcome}"
    else:
        lacking = rule.need.name if rule.need else "a credential no page role gives"
        assert (outcome.code, outcome.reason) == (DENIED, rule.refusal), f"{caller} lacks {lacking}: {outcome}"


# ---------------------------------------------------------------------------------------------------
# 3. User level: resources under `users/{user}` (the notification service's) are the user's alone
# ---------------------------------------------------------------------------------------------------

OWN, PUBLIC = "own", "public"
# Every RPC bound to a `users/*` resource: the user's own (`users/me`, or the caller's own id; anyone else's is
# PERMISSION_DENIED NOT_YOUR_USER), or readable by every signed-in user (public fields).
USER_RULES = {
    "UserService.GetUser": PUBLIC,
    "NotificationService.ListNotifications": OWN,
    "NotificationService.GetNotification": OWN,
    "NotificationService.MarkNotificationRead": OWN,
    "NotificationService.MarkAllNotificationsRead": OWN,
    "NotificationService.GetNotificationPreferences": OWN,
    "NotificationService.UpdateNotificationPreferences": OWN,
}
USER_CALLERS = ("self", "me", "other")


def user_bindings() -> list[tuple[Rpc, Binding]]:
    return [(rpc, b) for rpc in RPCS for b in rpc.bindings if b.collection == "users"]


def test_every_user_rpc_has_a_user_rule() -> None:
    assert {rpc.short for rpc, _ in user_bindings()} == set(USER_RULES)


@dataclass(frozen=True)
class TwoUsers:
    tokens: tuple[str, str]
    ids: tuple[str, str]  # the user service's ids (`users/{id}`) of the two


@pytest.fixture(scope="module")
def two_users(suite: Suite) -> TwoUsers:
    stub = user_pb2_grpc.UserServiceStub(suite.channels[SERVICES["user"]])
    tokens = tuple(suite.stack.token(f"authz-user-{n}-{uuid.uuid4().hex[:6]}") for n in range(2))
    ids = tuple(
        stub.GetMe(user_pb2.GetMeRequest(), metadata=(("authorization", f"Bearer {t}"),)).name.split("/")[1]
        for t in tokens
    )
    return TwoUsers((tokens[0], tokens[1]), (ids[0], ids[1]))


USER_CASES = [
    (rpc, binding, caller)
    for rpc, binding in user_bindings()
    if USER_RULES.get(rpc.short) == OWN
    for caller in USER_CALLERS
]


@pytest.mark.parametrize(("rpc", "binding", "caller"), USER_CASES, ids=[f"{r.short}-{c}" for r, b, c in USER_CASES])
def test_user_resource(suite: Suite, two_users: TwoUsers, rpc: Rpc, binding: Binding, caller: str) -> None:
    parts = binding.pattern.split("/")
    parts[1] = {"self": two_users.ids[0], "me": "me", "other": two_users.ids[1]}[caller]
    if len(parts) > 3 and parts[3] == "*":
        parts[3] = new_id()
    request = rpc.request_class()
    set_field(request, binding.field, "/".join(parts))
    if "update_mask" in request.DESCRIPTOR.fields_by_name:
        request.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=["locale"]))  # type: ignore[attr-defined]
    outcome = call(suite.channel(rpc), rpc, request, two_users.tokens[0])
    if caller == "other":
        assert (outcome.code, outcome.reason) == (DENIED, "NOT_YOUR_USER"), outcome
    else:
        assert outcome.code not in (UNAUTH, DENIED), f"the caller was refused its own resource: {outcome}"

"""The company use cases on the in-memory unit of work: create, views, update, soft delete, batch get."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import grpc
import pytest

from company_service.domain.content import (
    LEAF_FIELDS,
    CompanyContent,
    CompanySize,
    Contact,
    DistributionChannel,
    Financials,
    FundingRound,
    LicensingModel,
    Money,
    Pitch,
    RevenueRange,
)
from company_service.domain.directory import DirectoryQuery
from company_service.domain.model import Company, CompanyState
from devinsider_common.auth.principal import Principal
from devinsider_common.errors import DomainError
from devinsider_common.pages.model import InvitationState
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.unit_of_work import ConstraintViolation

from ..fakes import SERVICE, STAFF, World, person, racing, world

ALICE = person("kc-alice")
EVERYTHING = frozenset(LEAF_FIELDS)


def full_content(display_name: str = "Acme Analytics") -> CompanyContent:
    return CompanyContent(
        display_name=display_name,
        legal_name="Acme Analytics SAS",
        tagline="Dashboards for plants",
        description="We build analytics for factories.",
        website_url="https://www.acme.io",
        hq_country_code="FR",
        founding_year=2015,
        company_size=CompanySize.S_11_50,
        industries=("manufacturing",),
        solution_categories=("analytics",),
        target_regions=("europe",),
        target_country_codes=("FR", "DE"),
        licensing_models=(LicensingModel.SAAS,),
        distribution_channels=(DistributionChannel.DIRECT,),
        technology_partners=("Microsoft Azure",),
        contact=Contact(email="hq@acme.io", phone_number="+33612345678"),
        financials=Financials(
            revenue_range=RevenueRange.R_1M_5M,
            looking_for_funding=True,
            funding_target=Money("EUR", 500_000_00),
            funding_rounds=(FundingRound("seed", Money("EUR", 100_000_00), date(2020, 3, 1)),),
        ),
        pitch=Pitch(pain_point="Blind plants", differentiator="Fast", team="Ten engineers"),
    )


def _create(w: World, who: Principal = ALICE, content: CompanyContent | None = None, key: str = "") -> str:
    view = w.app.companies.create(who, content or full_content(), False, key)
    return view.company.id


# Create


def test_create_makes_the_caller_owner_and_returns_what_it_wrote() -> None:
    w = world()
    view = w.app.companies.create(ALICE, full_content(), False, "")
    assert (view.full, view.role) == (True, PageRole.OWNER)
    assert view.company == w.stored(view.company.id)  # no second read: the stored page itself
    assert (view.company.state, view.company.founder, view.company.creator) == (
        CompanyState.ACTIVE,
        "kc-alice",
        "kc-alice",
    )
    assert [e.kind for e in w.events()] == ["CompanyCreated", "MemberAdded"]
    assert w.events("CompanyCreated")[0].details["creator"] == "kc-alice"
    members, _ = w.app.members.list(ALICE, view.company.id, 0, "", None)
    assert [(m.subject, m.role, m.email) for m in members] == [("kc-alice", PageRole.OWNER, "kc-alice@example.com")]


def test_staff_and_services_pre_list_pages_without_members() -> None:
    w = world()
    for who in (STAFF, SERVICE):
        view = w.app.companies.create(who, CompanyContent(display_name="Listed"), True, "")
        assert (view.company.state, view.company.founder, view.full, view.role) == (
            CompanyState.PRE_LISTED,
            "",
            True,
            None,
        )
    assert [e.kind for e in w.events()] == ["CompanyCreated", "CompanyCreated"]
    assert [e.details["creator"] for e in w.events()] == ["", ""]
    assert w.store.tables.get("members", {}) == {}


def test_who_may_pre_list_and_who_may_only_pre_list() -> None:
    w = world()
    assert failure(lambda: w.app.companies.create(ALICE, full_content(), True, "")) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "PRE_LISTING_STAFF_ONLY"
    )
    assert failure(lambda: w.app.companies.create(SERVICE, full_content(), False, "")) == Failure(
        grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["pre_listed"]
    )
    assert w.store.commits == 0


def test_a_platform_admin_creates_pages_without_founding_them() -> None:
    w = world()
    first = w.app.companies.create(STAFF, full_content("One"), False, "")
    second = w.app.companies.create(STAFF, full_content("Two"), False, "")
    assert first.company.founder == second.company.founder == ""
    assert first.role is PageRole.OWNER and second.role is PageRole.OWNER


def test_create_validates_every_field_at_once() -> None:
    bad = CompanyContent(
        display_name="",
        website_url="ftp:/nope",
        hq_country_code="fr",
        founding_year=1700,
        industries=("Not A Code",),
        target_country_codes=("XXX",),
        tagline="x" * 161,
        contact=Contact(email="not-mail", phone_number="123"),
        financials=Financials(funding_target=Money("euro", -1)),
        licensing_models=(LicensingModel.UNSPECIFIED,),
    )
    w = world()
    found = failure(lambda: w.app.companies.create(ALICE, bad, False, ""))
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(found.fields) == {
        "company.display_name",
        "company.website_url",
        "company.hq_country_code",
        "company.founding_year",
        "company.industries[0]",
        "company.target_country_codes[0]",
        "company.tagline",
        "company.contact.email",
        "company.contact.phone_number",
        "company.financials.funding_target.currency_code",
        "company.financials.funding_target.amount_minor",
        "company.licensing_models",
    }
    assert w.store.commits == 0


def test_one_live_page_per_isv_user_and_a_request_id_makes_create_idempotent() -> None:
    w = world()
    first = w.app.companies.create(ALICE, full_content(), False, "r-1")
    again = w.app.companies.create(ALICE, full_content("Ignored"), False, "r-1")
    assert again == first  # the same page, seen the same way, and nothing written twice
    assert len(w.events("CompanyCreated")) == 1
    # Another user's identical request id is theirs.
    bob = w.app.companies.create(person("kc-bob"), full_content("Bob"), False, "r-1")
    assert bob.company.id != first.company.id
    assert failure(lambda: w.app.companies.create(ALICE, full_content("Other"), False, "r-2")) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "ONE_COMPANY_PER_USER"
    )
    # Once the page is deleted, the founder may start another one.
    w.app.companies.delete(ALICE, first.company.id)
    assert w.app.companies.create(ALICE, full_content("Other"), False, "r-2").company.content.display_name == "Other"


@pytest.mark.parametrize("seen", [False, True], ids=["committed after the founder lookup", "seen by it"])
def test_a_concurrent_twin_with_the_same_request_id_is_returned(seen: bool) -> None:
    twin = Company("twin", CompanyContent(display_name="Twin"), founder="kc-alice", creator="kc-alice")
    w = world(uow=racing(replace(twin, idempotency_key="r-1"), seen))
    view = w.app.companies.create(ALICE, full_content(), False, "r-1")
    assert view.company.id == "twin" and list(w.store.tables["companies"]) == ["twin"]
    assert w.events() == []  # the loser's events were never committed


@pytest.mark.parametrize("seen", [False, True], ids=["committed after the founder lookup", "seen by it"])
def test_a_concurrent_first_page_of_the_same_founder_wins(seen: bool) -> None:
    twin = Company("twin", CompanyContent(display_name="Twin"), founder="kc-alice", creator="kc-alice")
    w = world(uow=racing(replace(twin, idempotency_key="other"), seen))
    assert failure(lambda: w.app.companies.create(ALICE, full_content(), False, "r-1")) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "ONE_COMPANY_PER_USER"
    )
    assert list(w.store.tables["companies"]) == ["twin"]


def test_a_failed_commit_publishes_nothing() -> None:
    w = world()
    w.store.fail_next_commit = ConstraintViolation("check failed")
    with pytest.raises(ConstraintViolation):
        w.app.companies.create(ALICE, full_content(), False, "")
    assert w.store.tables == {} and w.events() == []


# Views


def test_the_public_view_and_who_sees_everything() -> None:
    w = world()
    page = _create(w)
    investor = person("kc-inv", ("investor",))
    program = person("kc-prog", ("program",))
    for who in (None, person("kc-bob"), investor, program, person("kc-guest", ("guest",))):
        view = w.app.companies.get(who, page)
        assert (view.full, view.role) == (False, None), who
    for who, role in ((ALICE, PageRole.OWNER), (STAFF, None), (SERVICE, None)):
        assert (w.app.companies.get(who, page).full, w.app.companies.get(who, page).role) == (True, role)
    # Billing is asked for investors and programs only, never for members, staff or anonymous callers.
    assert w.unlocks.asked == [(f"companies/{page}", "kc-inv"), (f"companies/{page}", "kc-prog")]
    w.unlocks.unlocked.add((f"companies/{page}", "kc-inv"))
    assert w.app.companies.get(investor, page).full
    assert not w.app.companies.get(person("kc-inv2", ("investor",)), page).full


def test_the_unlock_check_is_given_the_pages_that_unlocked_the_page_with_it() -> None:
    w = world()
    page = _create(w)
    with w.uow() as uow:
        uow.unlocks.record("programs/p1/unlocks/u1", page, "programs/p1", w.clock())
        uow.unlocks.record("investors/i1/unlocks/u2", page, "investors/i1", w.clock())
        uow.commit()
    w.app.companies.get(person("kc-inv", ("investor",)), page)
    assert w.unlocks.given == [("investors/i1", "programs/p1")]  # read with the page, not asked for after


def test_reading_writes_nothing() -> None:
    w = world()
    page = _create(w)
    commits = w.store.commits
    w.app.companies.get(person("kc-inv", ("investor",)), page)
    w.app.companies.list_companies(ALICE, DirectoryQuery(), True, 10, "")
    w.app.companies.batch_get([page])
    assert w.store.commits == commits


def test_a_deleted_page_exists_for_staff_and_services_only() -> None:
    w = world()
    page = _create(w)
    w.app.companies.delete(ALICE, page)
    for who in (ALICE, None, person("kc-bob")):
        assert failure(lambda who=who: w.app.companies.get(who, page)) == Failure(  # type: ignore[misc]
            grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND"
        )
    for who in (STAFF, SERVICE):
        seen = w.app.companies.get(who, page).company
        assert seen.state is CompanyState.DELETED and seen.deleted_at == w.clock()
    assert failure(lambda: w.app.companies.get(None, "unknown")).reason == "COMPANY_NOT_FOUND"


# Update


def test_update_changes_only_the_given_leaves_and_says_which_changed() -> None:
    w = world()
    page = _create(w)
    w.clock.advance(minutes=5)
    changes = CompanyContent(display_name="Acme 2", tagline="ignored", contact=Contact(email="new@acme.io"))
    view = w.app.companies.update(ALICE, page, changes, frozenset({"display_name", "contact.email"}))
    content = view.company.content
    assert (content.display_name, content.tagline) == ("Acme 2", "Dashboards for plants")
    assert (content.contact.email, content.contact.phone_number) == ("new@acme.io", "+33612345678")
    assert (view.full, view.role, view.company.updated_at) == (True, PageRole.OWNER, w.clock())
    assert view.company == w.stored(page)
    (event,) = w.events("CompanyUpdated")
    assert event.details["changed"] == ["contact.email", "display_name"]
    # Nothing changed: nothing written, nothing published.
    commits = w.store.commits
    same = w.app.companies.update(ALICE, page, changes, frozenset({"display_name"}))
    assert same.company == view.company and w.store.commits == commits


def test_update_validates_only_the_given_leaves() -> None:
    w = world()
    page = _create(w)
    bad = CompanyContent(display_name="", founding_year=3000)
    assert failure(lambda: w.app.companies.update(ALICE, page, bad, frozenset({"founding_year"}))).fields == [
        "company.founding_year"
    ]
    # A blank display name is not checked when it is not in the mask.
    updated = w.app.companies.update(ALICE, page, replace(bad, founding_year=2001), frozenset({"founding_year"}))
    assert updated.company.content.founding_year == 2001


def test_who_may_update() -> None:
    w = world()
    page = w.seed({"kc-editor": PageRole.EDITOR, "kc-viewer": PageRole.VIEWER})
    changes = CompanyContent(display_name="New")
    leaves = frozenset({"display_name"})
    assert w.app.companies.update(person("kc-editor"), page, changes, leaves).role is PageRole.EDITOR
    admin_view = w.app.companies.update(STAFF, page, replace(changes, display_name="Staff"), leaves)
    assert (admin_view.full, admin_view.role) == (True, None)
    for who in (person("kc-viewer"), person("kc-bob"), person("kc-inv", ("investor",))):
        assert failure(lambda who=who: w.app.companies.update(who, page, changes, leaves)).code == (  # type: ignore[misc]
            grpc.StatusCode.PERMISSION_DENIED
        )
    # Permission first: a page that does not exist is denied to non-members, missing for staff.
    assert failure(lambda: w.app.companies.update(ALICE, "ghost", changes, leaves)).code == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert failure(lambda: w.app.companies.update(STAFF, "ghost", changes, leaves)).reason == "COMPANY_NOT_FOUND"


# Delete


def test_soft_delete_removes_members_revokes_invitations_and_frees_the_founder() -> None:
    w = world()
    page = _create(w)
    w.app.invitations.create(ALICE, page, "bob@example.com", PageRole.EDITOR, "")
    w.clock.advance(minutes=1)
    w.app.companies.delete(ALICE, page)
    deleted = w.stored(page)
    assert (deleted.state, deleted.founder, deleted.deleted_at) == (CompanyState.DELETED, "", w.clock())
    assert w.store.tables["members"] == {}
    (invitation,) = w.store.tables["invitations"].values()
    assert (invitation.state, invitation.closed_at) == (InvitationState.REVOKED, w.clock())
    kinds = [e.kind for e in w.events()][-3:]
    assert kinds == ["MemberRemoved", "InvitationChanged", "CompanyDeleted"]
    assert w.events("MemberRemoved")[0].details["with_page"] is True
    assert w.events("CompanyDeleted")[0].details["deleter"] == "kc-alice"
    assert w.app.members.check_access(page, "kc-alice", PagePermission.VIEW_PRIVATE) == (False, None)
    assert failure(lambda: w.app.companies.delete(STAFF, page)).code == grpc.StatusCode.NOT_FOUND


def test_only_owners_and_staff_delete() -> None:
    w = world()
    page = w.seed({"kc-owner": PageRole.OWNER, "kc-admin": PageRole.ADMIN})
    assert failure(lambda: w.app.companies.delete(person("kc-admin"), page)).code == grpc.StatusCode.PERMISSION_DENIED
    w.app.companies.delete(STAFF, page)
    assert w.events("CompanyDeleted")[0].details["deleter"] == "kc-staff"


# Batch get and titles


def test_batch_get_returns_live_pages_in_request_order() -> None:
    w = world()
    ids = [_create(w, person(f"kc-owner-{i}"), full_content(f"Page {i}")) for i in range(3)]
    w.app.companies.delete(person("kc-owner-1"), ids[1])
    found = w.app.companies.batch_get([ids[2], "unknown", ids[1], ids[0], ids[2]])
    assert [c.id for c in found] == [ids[2], ids[0]]
    assert failure(lambda: w.app.companies.batch_get(["x"] * 201)).fields == ["names"]
    # Titles (for invitations) include deleted pages; the membership model's page title does not.
    assert w.app.companies.titles([ids[0], ids[1], "unknown"]) == {ids[0]: "Page 0", ids[1]: "Page 1"}


def test_a_concurrent_change_is_a_conflict() -> None:
    w = world()
    page = _create(w)
    with w.uow() as uow:
        stale = uow.companies.get(page)
    w.app.companies.update(ALICE, page, CompanyContent(tagline="new"), frozenset({"tagline"}))
    assert stale is not None
    with w.uow() as uow, pytest.raises(DomainError) as raised:
        uow.companies.save(replace(stale, content=replace(stale.content, tagline="lost")))
    assert raised.value.reason == "CONCURRENT_UPDATE"

"""The investor page use cases on the in-memory unit of work: every rule, no I/O."""

from __future__ import annotations

import grpc
import pytest

from devinsider_common.pages.model import Member
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.memory import MemoryStore
from devinsider_common.unit_of_work import DuplicateRecord
from investor_service.domain.enums import InvestorState
from investor_service.domain.model import Contact, Investor, Money, Profile
from investor_service.domain.query import InvestorQuery

from ..fakes import FakeInvestorUow, MemoryInvestors, build_page, new_profile, person, world

STAFF = ("admin",)
SERVICE = ("service",)
BAD = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = Failure(grpc.StatusCode.NOT_FOUND, "INVESTOR_NOT_FOUND")


def test_create_normalizes_makes_the_caller_owner_and_publishes() -> None:
    w = world()
    draft = new_profile(
        " Northwind Ventures ",
        tagline="Seed funds for B2B software",
        hq_country_code="fr",
        ticket_min=Money("eur", 50_000_00),
        ticket_max=Money("EUR", 2_000_000_00),
        funding_stages=("seed", "Series_A", "seed"),
        country_codes=("fr", "DE"),
        contact=Contact(email="Deals@Northwind.example", phone_number="+33612345678"),
    )
    created = w.app.investors.create(person("kc-ada"), draft, "")
    investor = created.investor
    assert (investor.profile.display_name, investor.profile.hq_country_code) == ("Northwind Ventures", "FR")
    assert investor.profile.funding_stages == ("seed", "series_a") and investor.profile.country_codes == ("FR", "DE")
    assert investor.profile.ticket_min == Money("EUR", 50_000_00)
    assert investor.state is InvestorState.ACTIVE and investor.created_at == investor.updated_at == w.clock.now
    assert (created.full, created.role) == (True, PageRole.OWNER)
    assert investor.profile.contact.email == "deals@northwind.example"
    # What the command returned is what it stored.
    assert w.app.investors.get(person("kc-ada"), investor.id).investor == investor
    members, _ = w.app.members.list(person("kc-ada"), investor.id, 0, "", None)
    assert [(m.subject, m.role, m.email, m.display_name) for m in members] == [
        ("kc-ada", PageRole.OWNER, "kc-ada@example.com", "Ada Lovelace")
    ]
    [event, added] = w.events()
    assert (event.kind, event.about, event.details["creator"]) == ("InvestorCreated", investor.name, "kc-ada")
    assert event.details["investor"] == investor  # Odoo gets every field, the contact included
    assert (added.kind, added.about) == ("MemberAdded", "kc-ada")


def test_create_is_idempotent_per_caller_with_a_request_id() -> None:
    w = world()
    first = w.app.investors.create(person("kc-ada"), new_profile("Once Fund"), "req-42")
    again = w.app.investors.create(person("kc-ada"), new_profile("Other name"), "req-42")
    other = w.app.investors.create(person("kc-bob"), new_profile("Once Fund"), "req-42")  # keys are per caller
    assert again == first and again.role is PageRole.OWNER
    assert other.investor.id != first.investor.id
    assert len(w.events("InvestorCreated")) == 2
    without_key = [w.app.investors.create(person("kc-ada"), new_profile("Twin"), "") for _ in range(2)]
    assert without_key[0].investor.id != without_key[1].investor.id


class _LateTwin(FakeInvestorUow):
    """A unit of work that does not yet see a twin a concurrent retry is committing: its lookup by
    request id misses (`misses` times), then the unique key meets the twin at the insert."""

    misses = 1

    def _open_repositories(self) -> None:
        super()._open_repositories()
        inner = self.investors

        class Late(MemoryInvestors):
            def find_by_request(self, creator: str, request_id: str) -> Investor | None:
                if _LateTwin.misses > 0:
                    _LateTwin.misses -= 1
                    return None
                return inner.find_by_request(creator, request_id)

        self.investors = Late(self.table("investors"), self.table("members"), self.table("page_unlocks"))


@pytest.mark.parametrize(("misses", "wins"), [(1, True), (2, False)])
def test_a_create_that_meets_a_concurrent_twin_returns_it_or_asks_for_a_retry(misses: int, wins: bool) -> None:
    w = world(uow=_LateTwin)
    _LateTwin.misses = 0
    twin = w.app.investors.create(person("kc-ada"), new_profile("Race Fund"), "req-1")
    _LateTwin.misses = misses
    if wins:
        assert w.app.investors.create(person("kc-ada"), new_profile("Race Fund"), "req-1") == twin
    else:  # the twin is not found either: nothing to return, the client retries
        got = failure(lambda: w.app.investors.create(person("kc-ada"), new_profile("Race Fund"), "req-1"))
        assert got == Failure(grpc.StatusCode.ABORTED, "CONCURRENT_CREATE")
    assert len(w.events("InvestorCreated")) == 1  # the failed attempt published nothing


def test_create_reports_every_bad_field_and_stores_nothing() -> None:
    w = world()
    draft = Profile(
        display_name="",
        investor_type=99,
        website_url="ftp://x.example",
        logo_url="http://insecure.example/logo.png",
        hq_country_code="France",
        ticket_min=Money("EUR", 500),
        ticket_max=Money("USD", 1000),
        industries=("Fin Tech!",),
        country_codes=("FR", "XXX"),
        contact=Contact(email="not-an-email", phone_number="0612"),
    )
    got = failure(lambda: w.app.investors.create(person("kc-ada"), draft, ""))
    assert (got.code, got.reason) == (BAD, "INVALID_ARGUMENT")
    assert sorted(got.fields) == [
        "investor.category",
        "investor.contact.email",
        "investor.contact.phone_number",
        "investor.country_codes[1]",
        "investor.display_name",
        "investor.hq_country_code",
        "investor.industries[0]",
        "investor.investor_type",
        "investor.logo_url",
        "investor.ticket_max.currency_code",
        "investor.website_url",
    ]
    assert w.store.commits == 0


def test_update_changes_only_the_paths_and_publishes_what_changed() -> None:
    w = world()
    page = build_page(w, "p", roles=("editor",))
    w.clock.advance(minutes=5)
    changes = Profile(
        display_name="Renamed Capital",
        tagline="ignored: not in the paths",
        ticket_max=Money("EUR", 100),
        contact=Contact(phone_number="+33700000000", email="ignored@x.example"),
    )
    paths = frozenset({"display_name", "ticket_max", "contact.phone_number"})
    updated = w.app.investors.update(person("p-editor"), page.id, changes, paths)
    profile = updated.investor.profile
    assert (profile.display_name, profile.tagline, profile.ticket_max) == ("Renamed Capital", "", Money("EUR", 100))
    assert (profile.contact.phone_number, profile.contact.email) == ("+33700000000", "deals@p.example")
    assert (updated.full, updated.role, updated.investor.updated_at) == (True, PageRole.EDITOR, w.clock.now)
    assert w.app.investors.get(None, page.id).investor == updated.investor  # returned as stored
    [event] = w.events("InvestorUpdated")
    assert event.details["changed"] == ["display_name", "ticket_max", "contact.phone_number"]
    commits = w.store.commits
    again = w.app.investors.update(person("p-editor"), page.id, changes, paths)  # the same values: nothing
    assert again.investor == updated.investor and w.store.commits == commits
    assert len(w.events("InvestorUpdated")) == 1


def test_update_validates_the_result() -> None:
    w = world()
    page = build_page(w, "p", roles=())
    owner = person("p-owner")
    w.app.investors.update(owner, page.id, Profile(ticket_min=Money("EUR", 1_000)), frozenset({"ticket_min"}))
    below = failure(  # ticket_max below the stored ticket_min: the range is checked on the result
        lambda: w.app.investors.update(owner, page.id, Profile(ticket_max=Money("EUR", 999)), frozenset({"ticket_max"}))
    )
    assert (below.code, below.fields) == (BAD, ["investor.ticket_max"])
    empty = failure(lambda: w.app.investors.update(owner, page.id, Profile(), frozenset({"display_name"})))
    assert empty.fields == ["investor.display_name"]
    missing = "01900000-0000-7000-8000-000000000000"
    assert failure(lambda: w.app.investors.update(person("kc-staff", STAFF), missing, Profile(), frozenset())) == (
        Failure(grpc.StatusCode.NOT_FOUND, "PAGE_NOT_FOUND")
    )


def test_soft_delete_hides_the_page_keeps_it_for_staff_and_publishes() -> None:
    w = world()
    page = build_page(w, "p", roles=("admin",))
    w.clock.advance(minutes=1)
    w.app.investors.delete(person("p-owner"), page.id)
    for caller in ("p-owner", "p-admin"):
        assert failure(lambda c=caller: w.app.investors.get(person(c), page.id)) == NOT_FOUND  # type: ignore[misc]
    assert failure(lambda: w.app.investors.get(None, page.id)) == NOT_FOUND
    again = failure(lambda: w.app.investors.delete(person("p-owner"), page.id))  # members hold the permission
    assert again.code == grpc.StatusCode.NOT_FOUND
    seen = w.app.investors.get(person("kc-staff", STAFF), page.id).investor
    assert seen.state is InvestorState.DELETED and seen.deleted_at == w.clock.now
    assert w.app.investors.list_investors(None, InvestorQuery(), False, 0, "").investors == []
    deleted = InvestorQuery(states=(InvestorState.DELETED,))
    staff_list = w.app.investors.list_investors(person("kc-staff", STAFF), deleted, False, 0, "")
    assert [v.investor.id for v in staff_list.investors] == [page.id]
    assert w.app.investors.batch_get([page.id]) == []
    assert w.app.members.check_access(page.id, "p-owner", PagePermission.VIEW_PRIVATE) == (False, None)
    [event] = w.events("InvestorDeleted")
    assert (event.about, event.details["deleter"]) == (page.name, "p-owner")


@pytest.mark.parametrize("caller", [None, "kc-ada"])
def test_only_staff_and_services_list_deleted_pages(caller: str | None) -> None:
    w = world()
    who = person(caller) if caller else None
    query = InvestorQuery(states=(InvestorState.ACTIVE, InvestorState.DELETED))
    got = failure(lambda: w.app.investors.list_investors(who, query, False, 0, ""))
    assert got == Failure(grpc.StatusCode.PERMISSION_DENIED, "STATE_FILTER_STAFF_ONLY")
    assert w.app.investors.list_investors(person("svc", SERVICE), query, False, 0, "").total_size == 0


def test_batch_get_keeps_request_order_skips_unknown_and_is_bounded() -> None:
    w = world()
    first, second = build_page(w, "a", roles=()), build_page(w, "b", roles=())
    unknown = "01900000-0000-7000-8000-000000000000"
    got = w.app.investors.batch_get([second.id, unknown, first.id, second.id])
    assert [i.id for i in got] == [second.id, first.id]
    assert got[0].profile.contact.email == "deals@b.example"
    assert w.app.investors.batch_get([]) == []
    assert failure(lambda: w.app.investors.batch_get([first.id] * 201)).fields == ["names"]
    assert len(w.app.investors.batch_get([first.id] * 200)) == 1


def test_titles_name_every_page_asked_for() -> None:
    w = world()
    page = build_page(w, "t", roles=())
    assert w.app.investors.titles([page.id, "nope"]) == {page.id: "T Capital"}
    w.app.investors.delete(person("t-owner"), page.id)
    assert w.app.investors.titles([page.id]) == {page.id: "T Capital"}  # invitations keep naming it


def test_who_sees_the_contact_and_who_is_asked_about_unlocks() -> None:
    """Members, staff and services see everything; others only when their organisation unlocked the page
    (billing is asked only for them); anonymous callers never."""
    w = world()
    page = build_page(w, "p", roles=("admin", "editor", "viewer"))
    w.unlocks.unlocked.add((page.name, "kc-isv"))
    expected = {
        "p-owner": (True, PageRole.OWNER),
        "p-admin": (True, PageRole.ADMIN),
        "p-editor": (True, PageRole.EDITOR),
        "p-viewer": (True, PageRole.VIEWER),
        "kc-staff": (True, None),
        "svc-matching": (True, None),
        "kc-isv": (True, None),
        "kc-other": (False, None),
    }
    roles = {"kc-staff": STAFF, "svc-matching": SERVICE, "kc-isv": ("isv",), "kc-other": ("isv",)}
    for subject, answer in expected.items():
        seen = w.app.investors.get(person(subject, roles.get(subject, ("investor",))), page.id)
        assert (seen.full, seen.role) == answer, subject
    anonymous = w.app.investors.get(None, page.id)
    assert (anonymous.full, anonymous.role) == (False, None)
    assert w.unlocks.asked == [(page.name, "kc-isv"), (page.name, "kc-other")]


def test_check_page_access_answers_from_page_roles() -> None:
    w = world()
    page = build_page(w, "p")
    expected = {
        ("p-owner", PagePermission.DELETE): (True, PageRole.OWNER),
        ("p-admin", PagePermission.DELETE): (False, PageRole.ADMIN),
        ("p-admin", PagePermission.MANAGE_BILLING): (True, PageRole.ADMIN),
        ("p-editor", PagePermission.EDIT): (True, PageRole.EDITOR),
        ("p-viewer", PagePermission.EDIT): (False, PageRole.VIEWER),
        ("p-viewer", PagePermission.VIEW_PRIVATE): (True, PageRole.VIEWER),
        ("kc-stranger", PagePermission.VIEW_PRIVATE): (False, None),
    }
    for (subject, permission), answer in expected.items():
        assert w.app.members.check_access(page.id, subject, permission) == answer, (subject, permission)


def test_a_failed_write_publishes_nothing() -> None:
    """Events are recorded in the unit of work: a use case that fails after recording them leaves none."""
    store = MemoryStore()
    with FakeInvestorUow(store) as uow:
        uow.events.investor_deleted(Investor("x", new_profile(), "kc"), "kc")
        member = Member("x", "kc", PageRole.OWNER)
        uow.members.add(member)
        with pytest.raises(DuplicateRecord):
            uow.members.add(member)
    assert store.tables == {} and store.commits == 0


def test_a_create_without_a_key_that_meets_a_duplicate_asks_for_a_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a request id there is no twin to return: an id already taken is CONCURRENT_CREATE."""
    w = world()
    monkeypatch.setattr(
        "investor_service.service_layer.investors.new_id", lambda: "01900000-0000-7000-8000-00000000000a"
    )
    w.app.investors.create(person("kc-ada"), new_profile("First"), "")
    got = failure(lambda: w.app.investors.create(person("kc-bob"), new_profile("Second"), ""))
    assert got == Failure(grpc.StatusCode.ABORTED, "CONCURRENT_CREATE")
    assert len(w.events("InvestorCreated")) == 1


class _StaleTitles(FakeInvestorUow):
    """A unit of work whose page check ran before a concurrent delete committed."""

    def page_title(self, page_id: str) -> str | None:
        return "still there"


def test_a_page_deleted_concurrently_is_not_found_by_the_second_delete() -> None:
    w = world(uow=_StaleTitles)
    page = build_page(w, "p", roles=())
    w.app.investors.delete(person("p-owner"), page.id)
    assert failure(lambda: w.app.investors.delete(person("p-owner"), page.id)) == NOT_FOUND
    assert len(w.events("InvestorDeleted")) == 1

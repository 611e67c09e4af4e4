"""An orphaned company page on the in-memory app: marked by its sole owner's departure, then given an
owner by staff (the shared rules are in libs/common/tests/pages, test_departures.py and test_orphans.py;
this is their wiring to the company store and events)."""

from __future__ import annotations

import grpc

from company_service.domain.content import CompanyContent
from company_service.domain.model import CompanyState
from company_service.service_layer.unit_of_work import SOURCE
from devinsider_common.pages.departures import AccountDeletions
from devinsider_common.pages.ports import DirectoryUser
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.pages import user_deleted

from ..fakes import STAFF, person, world

DANA = DirectoryUser("users/u-dana", "kc-dana", "Dana Scully", "dana@acme.io")


def test_staff_give_an_orphaned_page_an_owner_who_can_then_edit_it() -> None:
    w = world()
    w.users.add(DANA)
    page = w.seed({"kc-solo": PageRole.OWNER})
    departures = AccountDeletions(SOURCE, w.uow, w.clock)
    assert departures(user_deleted(departures.queue.name, "kc-solo"))  # its sole owner's account is deleted
    marked = w.stored(page)
    assert marked.orphaned_at == w.clock() and w.events("CompanyUpdated")[-1].details["changed"] == ["orphan_time"]
    assert failure(lambda: w.app.companies.update(person("kc-dana"), page, CompanyContent(), frozenset())) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED"
    )
    w.clock.advance(hours=1)
    owner = w.app.owners.assign(STAFF, page, "users/u-dana")
    assert (owner.subject, owner.role, owner.user) == ("kc-dana", PageRole.OWNER, "users/u-dana")
    cleared = w.stored(page)
    assert (cleared.orphaned_at, cleared.updated_at, cleared.version) == (None, w.clock(), marked.version + 1)
    assert [e.kind for e in w.events()][-2:] == ["MemberAdded", "CompanyUpdated"]
    renamed = w.app.companies.update(
        person("kc-dana"), page, CompanyContent(display_name="Dana's"), frozenset({"display_name"})
    )
    assert (renamed.company.content.display_name, renamed.role) == ("Dana's", PageRole.OWNER)
    before = len(w.events())
    assert w.app.owners.assign(STAFF, page, "users/u-dana") == owner  # again: the same answer, no event
    assert len(w.events()) == before


def test_a_pre_listed_or_claimed_page_gets_its_owner_from_a_claim() -> None:
    w = world()
    w.users.add(DANA)
    for state in (CompanyState.PRE_LISTED, CompanyState.CLAIM_PENDING):
        page = w.seed({}, state)
        assert failure(lambda p=page: w.app.owners.assign(STAFF, p, "users/u-dana")) == Failure(  # type: ignore[misc]
            grpc.StatusCode.FAILED_PRECONDITION, "PAGE_NEVER_OWNED"
        )

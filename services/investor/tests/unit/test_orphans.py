"""An investor page whose sole owner's account is deleted, on the in-memory app: the departure marks it
orphaned, staff list it and give it an owner, who can then edit it. The shared rules are in
libs/common/tests/pages (test_departures.py, test_orphans.py); this is their wiring to investor pages."""

from __future__ import annotations

import grpc

from devinsider_common.pages.departures import AccountDeletions
from devinsider_common.pages.ports import DirectoryUser
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.pages import user_deleted
from investor_service.domain.model import Profile
from investor_service.domain.query import InvestorQuery
from investor_service.service_layer.unit_of_work import SOURCE

from ..fakes import FakeInvestorUow, build_page, person, world

STAFF = person("kc-staff", ("admin",))
DANA = DirectoryUser("users/u-dana", "kc-dana", "Dana Scully", "dana@acme.io")


def test_an_orphaned_page_is_marked_listed_to_staff_and_given_an_owner() -> None:
    w = world()
    page = build_page(w, "solo", roles=())
    w.clock.advance(hours=1)
    departures = AccountDeletions(SOURCE, lambda: FakeInvestorUow(w.store), w.clock)
    assert departures(user_deleted(departures.queue.name, "solo-owner"))
    orphaned = InvestorQuery(orphaned=True)
    (listed,) = w.app.investors.list_investors(STAFF, orphaned, False, 0, "").investors
    assert (listed.investor.id, listed.investor.orphaned_at) == (page.id, w.clock())
    assert w.events("InvestorUpdated")[-1].details["changed"] == ["orphan_time"]
    assert failure(lambda: w.app.investors.list_investors(person("kc-ada"), orphaned, False, 0, "")) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "ORPHAN_FILTER_STAFF_ONLY"
    )
    w.users.add(DANA)
    owner = w.app.owners.assign(STAFF, page.id, "users/u-dana")
    assert (owner.subject, owner.role) == ("kc-dana", PageRole.OWNER)
    assert w.app.investors.list_investors(STAFF, orphaned, False, 0, "").investors == []
    edited = w.app.investors.update(person("kc-dana"), page.id, Profile(tagline="Back"), frozenset({"tagline"}))
    assert (edited.investor.profile.tagline, edited.investor.orphaned_at, edited.role) == ("Back", None, PageRole.OWNER)

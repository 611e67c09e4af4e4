"""The investor service enforces its pages' plans (billing's entitlements, faked) as `build_app` wires them:
the directory's criteria filters, and seats. The rules themselves: libs/common/tests/pages/test_plan_limits.py."""

from __future__ import annotations

import grpc

from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.entitlements import FakeEntitlements
from devinsider_common.testing.failures import failure
from investor_service.domain.query import InvestorQuery

from ..fakes import build_page, person, world


def test_criteria_filters_and_seats_follow_the_pages_plan() -> None:
    billing = FakeEntitlements()
    w = world(entitlements=billing)
    page = build_page(w, "north", roles=("viewer",), industries=("fintech",))
    viewer = person(page.members["viewer"])
    filtered = InvestorQuery(industries=("fintech",), funding_stages=("seed",))

    assert w.app.investors.list_investors(None, InvestorQuery(text="north"), False, 10, "").total_size == 1
    refused = failure(lambda: w.app.investors.list_investors(viewer, filtered, False, 10, "", page.name))
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "DIRECTORY_FILTERS_NOT_ENTITLED")
    assert "(funding_stages, industries)" in refused.message  # the order of the request's fields
    billing.set(page.name, directory_filters=True)
    found = w.app.investors.list_investors(viewer, InvestorQuery(industries=("fintech",)), False, 10, "", page.name)
    assert [v.investor.id for v in found.investors] == [page.id]

    billing.set(page.name, seats=2)  # the owner and the viewer
    owner = person(page.members["owner"])
    seats = failure(lambda: w.app.invitations.create(owner, page.id, "new@example.com", PageRole.VIEWER, ""))
    assert (seats.code, seats.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "SEATS_EXHAUSTED")

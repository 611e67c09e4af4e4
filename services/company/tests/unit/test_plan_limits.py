"""The company service enforces its pages' plans (billing's entitlements, faked) as `build_app` wires them:
the directory's criteria filters for a caller browsing as an entitled page, and seats when inviting. The rules
themselves: libs/common/tests/pages/test_plan_limits.py."""

from __future__ import annotations

import grpc

from company_service.domain.content import CompanySize
from company_service.domain.directory import DirectoryQuery
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.entitlements import FakeEntitlements
from devinsider_common.testing.failures import failure

from ..fakes import STAFF, person, world

ALICE = person("kc-alice", email="alice@acme.io")
FILTERED = DirectoryQuery(industries=("fintech",), company_sizes=(CompanySize.S_1_10,))


def test_criteria_filters_need_the_callers_page_to_be_entitled() -> None:
    billing = FakeEntitlements()
    w = world(entitlements=billing)
    acme = w.seed({ALICE.subject: PageRole.VIEWER}, display_name="Acme", industries=("fintech",))
    page = f"companies/{acme}"

    plain = w.app.companies.list_companies(None, DirectoryQuery(query="acme"), False, 10, "")  # search: anyone
    assert [v.company.id for v in plain[0]] == [acme]
    refused = failure(lambda: w.app.companies.list_companies(ALICE, FILTERED, False, 10, "", page))
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "DIRECTORY_FILTERS_NOT_ENTITLED")
    assert "industries, company_sizes" in refused.message
    billing.set(page, directory_filters=True)
    views, _, total = w.app.companies.list_companies(
        ALICE, DirectoryQuery(industries=("fintech",)), False, 10, "", page
    )
    assert ([v.company.id for v in views], total) == ([acme], 1)
    outsider = person("kc-eve")  # an entitled page she does not belong to
    assert failure(lambda: w.app.companies.list_companies(outsider, FILTERED, False, 10, "", page)).reason == (
        "PAGE_PERMISSION_DENIED"
    )
    assert w.app.companies.list_companies(STAFF, FILTERED, False, 10, "")[2] == 0  # staff: no page needed


def test_invitations_stop_at_the_pages_seats() -> None:
    billing = FakeEntitlements()
    w = world(entitlements=billing)
    acme = w.seed({ALICE.subject: PageRole.OWNER}, display_name="Acme")
    billing.set(f"companies/{acme}", seats=2)
    w.app.invitations.create(ALICE, acme, "bob@acme.io", PageRole.VIEWER, "")
    refused = failure(lambda: w.app.invitations.create(ALICE, acme, "carol@acme.io", PageRole.VIEWER, ""))
    assert (refused.code, refused.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "SEATS_EXHAUSTED")
    billing.set(f"companies/{acme}", seats=0)  # no limit
    w.app.invitations.create(ALICE, acme, "carol@acme.io", PageRole.VIEWER, "")

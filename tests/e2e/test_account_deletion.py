"""A deleted account leaves its pages, end to end: Keycloak's signed `access.DELETE_ACCOUNT` through the edge,
the user service's `UserDeleted` on RabbitMQ, each page service's `<service>.user-deletions` consumer. The
page the user owned alone goes to its admin; the page where they were a viewer just loses them; an
invitation still waiting for them is revoked. A page left with no member at all is marked orphaned: staff
find it in their orphan list and assign it a new owner, who can then edit it."""

from __future__ import annotations

from typing import Any

from devinsider.company.v1 import events_pb2
from devinsider_common.outbox import topology
from devinsider_common.testing.polling import wait_for

from .journeys import investor_page, join_investor, keycloak_event, keycloak_register, ok
from .suite_stack import EVENTUALLY_SECONDS, SuiteStack, create_company, join_company, status_of, unique

ODOO_COMPANY_QUEUE = topology.DIRECT_QUEUES[topology.ODOO_COMPANY]


def _members(stack: SuiteStack, page: str, token: str) -> list[tuple[str, str]]:
    listed: list[dict[str, Any]] = ok(stack.call("GET", f"/v1/{page}/members", token=token)).get("members", [])
    return [(m["subject"], m["role"]) for m in listed]


def test_a_deleted_account_leaves_its_pages_and_its_page_goes_to_the_admin(suite_stack: SuiteStack) -> None:
    subject = unique("kc-gone")
    email = f"{subject}@example.com"
    assert keycloak_register(suite_stack, subject, email, "Gina", "Gone").status == 200
    owner = suite_stack.token(subject)
    company = create_company(suite_stack, owner, displayName="Soon Orphaned Ltd")["name"]
    admin_subject = unique("kc-admin")
    admin = join_company(suite_stack, company, owner, admin_subject, "PAGE_ROLE_ADMIN")
    fund = investor_page(suite_stack, with_profile=False)  # someone else's investor page: she only views it
    viewer_token = join_investor(suite_stack, fund, subject)
    assert viewer_token and (subject, "PAGE_ROLE_VIEWER") in _members(suite_stack, fund.name, fund.owner)
    assert _members(suite_stack, company, admin) == sorted(
        [(subject, "PAGE_ROLE_OWNER"), (admin_subject, "PAGE_ROLE_ADMIN")]
    )
    other_owner = suite_stack.token(unique("kc-other"))
    other = create_company(suite_stack, other_owner, displayName="Still Inviting Ltd")["name"]
    invitation = {"email": email, "role": "PAGE_ROLE_EDITOR"}
    waiting = ok(suite_stack.call("POST", f"/v1/{other}/invitations", invitation, other_owner))["name"]

    def invitation_state() -> str:
        listed = ok(suite_stack.call("GET", f"/v1/{other}/invitations", token=other_owner)).get("invitations", [])
        return str(next(i["state"] for i in listed if i["name"] == waiting))

    assert invitation_state() == "INVITATION_STATE_PENDING"

    deleted = keycloak_event(suite_stack, "access.DELETE_ACCOUNT", subject)
    assert deleted.status == 200, deleted.body

    assert wait_for(
        lambda: _members(suite_stack, company, admin) == [(admin_subject, "PAGE_ROLE_OWNER")],
        timeout=EVENTUALLY_SECONDS,
    ), "handed over"
    assert wait_for(
        lambda: subject not in dict(_members(suite_stack, fund.name, fund.owner)), timeout=EVENTUALLY_SECONDS
    ), "left the investor page"
    assert (fund.owner_subject, "PAGE_ROLE_OWNER") in _members(suite_stack, fund.name, fund.owner)
    assert wait_for(lambda: invitation_state() == "INVITATION_STATE_REVOKED", timeout=EVENTUALLY_SECONDS), (
        "the waiting invitation revoked"
    )


def test_a_page_left_with_no_member_is_orphaned_until_staff_assign_it_an_owner(suite_stack: SuiteStack) -> None:
    subject = unique("kc-solo")
    assert keycloak_register(suite_stack, subject, f"{subject}@example.com", "Solo", "Founder").status == 200
    company = create_company(suite_stack, suite_stack.token(subject), displayName="Left Alone Ltd")["name"]
    staff = suite_stack.token(unique("kc-staff"), roles=("admin",))
    stranger = suite_stack.token(unique("kc-isv"))
    assert "orphanTime" not in ok(suite_stack.call("GET", f"/v1/{company}", token=staff))

    deleted = keycloak_event(suite_stack, "access.DELETE_ACCOUNT", subject)
    assert deleted.status == 200, deleted.body

    def page() -> dict[str, Any]:
        return ok(suite_stack.call("GET", f"/v1/{company}", token=staff))

    def orphans(token: str = staff) -> list[str]:
        listed = ok(suite_stack.call("GET", "/v1/companies?orphaned=true&pageSize=200", token=token))
        return [c["name"] for c in listed.get("companies", [])]

    assert wait_for(lambda: "orphanTime" in page(), timeout=EVENTUALLY_SECONDS), "marked orphaned"
    assert company in orphans() and _members(suite_stack, company, staff) == []
    # The CRM and matching learn it: CompanyUpdated naming `orphan_time`, the page carrying it.
    updates = suite_stack.broker.wait_for(
        ODOO_COMPANY_QUEUE,
        lambda e: e.envelope.external_id == company and e.amqp_type.endswith(".CompanyUpdated"),
        bool,
    )
    changed = [e.payload(events_pb2.CompanyUpdated) for e in updates]
    assert [list(u.changed_fields) for u in changed] == [["orphan_time"]] and changed[0].company.HasField("orphan_time")
    # Only staff list orphans, and only staff assign owners.
    refused = suite_stack.call("GET", "/v1/companies?orphaned=true", token=stranger)
    assert status_of(refused) == (403, 7, "ORPHAN_FILTER_STAFF_ONLY")
    heir_subject = unique("kc-heir")
    heir = suite_stack.token(heir_subject)
    heir_user = ok(suite_stack.call("GET", "/v1/users/me", token=heir))["name"]  # known to the user service
    assign = {"user": heir_user}
    assert status_of(suite_stack.call("POST", f"/v1/{company}:assignOwner", assign, stranger)) == (
        403,
        7,
        "ROLE_MISSING",
    )
    assert status_of(suite_stack.call("PATCH", f"/v1/{company}", {"tagline": "Mine now"}, heir))[2] == (
        "PAGE_PERMISSION_DENIED"
    )
    unknown = suite_stack.call("POST", f"/v1/{company}:assignOwner", {"user": "users/nobody"}, staff)
    assert status_of(unknown) == (404, 5, "USER_NOT_FOUND")

    owner = ok(suite_stack.call("POST", f"/v1/{company}:assignOwner", assign, staff))
    assert (owner["user"], owner["subject"], owner["role"]) == (heir_user, heir_subject, "PAGE_ROLE_OWNER")
    assert ok(suite_stack.call("POST", f"/v1/{company}:assignOwner", assign, staff)) == owner  # the same answer
    assert "orphanTime" not in page() and company not in orphans()
    edited = ok(suite_stack.call("PATCH", f"/v1/{company}", {"tagline": "Mine now"}, heir))
    assert (edited["tagline"], edited["viewerRole"]) == ("Mine now", "PAGE_ROLE_OWNER")

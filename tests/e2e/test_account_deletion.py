"""A deleted account leaves its pages, end to end: Keycloak's signed `access.DELETE_ACCOUNT` through the edge,
the user service's `UserDeleted` on RabbitMQ, each page service's `<service>.user-deletions` consumer. The
page the user owned alone goes to its admin; the page where they were a viewer just loses them; an
invitation still waiting for them is revoked."""

from __future__ import annotations

from typing import Any

from devinsider_common.testing.polling import wait_for

from .journeys import investor_page, join_investor, keycloak_event, keycloak_register, ok
from .suite_stack import EVENTUALLY_SECONDS, SuiteStack, create_company, join_company, unique


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

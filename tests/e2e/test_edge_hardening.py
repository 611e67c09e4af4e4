"""Hardening of the REST edge on the real suite (six services behind Envoy): mass assignment, page
sizes and tokens, the body limit.

- Mass assignment: the OUTPUT_ONLY fields of every page resource (read from the descriptors'
  `google.api.field_behavior`) sent with junk values in create and update bodies, update masks naming
  them, another page's name in a body, page and member roles, credits: none has an effect (the
  resource is read back) and nobody gains a role or a credit.
- Pagination: every List RPC with an HTTP GET binding (from the descriptors: requests with
  `page_size`): a page size far over the cap is capped (AIP-158; MAX_PAGE_SIZE 200), a negative one
  and a garbage page token are 400.
- Body limit: a body over Envoy's limit on a real service route is a 413 (tests/edge pins the JSON
  error shape on its echo backend; here the suite's own Envoy config is used).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from google.api import field_behavior_pb2
from google.protobuf import descriptor, descriptor_pool

from devinsider_gateway.testing.http import request

from .authorization import PAGE_COLLECTIONS, Binding, Rpc, load_rpcs
from .suite_stack import SuiteStack, create_company

RPCS = load_rpcs()
MAX_PAGE_SIZE = 200
JUNK_TIME = "2001-02-03T04:05:06Z"
_VARIABLE = re.compile(r"\{([a-z_.]+)=([^}]+)\}")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def output_only_junk(message: descriptor.Descriptor, other_page: str) -> dict[str, Any]:
    """JSON of junk values for every OUTPUT_ONLY field of `message` a client could try to set."""
    junk: dict[str, Any] = {}
    for f in message.fields:
        behaviors: list[int] = list(f.GetOptions().Extensions[field_behavior_pb2.field_behavior])  # type: ignore[index]
        if field_behavior_pb2.OUTPUT_ONLY not in behaviors:
            continue
        key = _camel(f.name)
        if f.is_repeated:
            continue
        if f.type == f.TYPE_MESSAGE:
            if f.message_type is not None and f.message_type.full_name == "google.protobuf.Timestamp":
                junk[key] = JUNK_TIME
            continue
        if f.type == f.TYPE_ENUM:
            assert f.enum_type is not None
            junk[key] = f.enum_type.values[-1].name  # the last value: the most "privileged" (e.g. VIEWER/DELETED)
            if f.enum_type.full_name == "devinsider.common.v1.PageRole":
                junk[key] = "PAGE_ROLE_OWNER"
        elif f.type == f.TYPE_BOOL:
            junk[key] = True
        elif f.type == f.TYPE_STRING:
            junk[key] = other_page
        elif f.type in (f.TYPE_DOUBLE, f.TYPE_FLOAT):
            junk[key] = 99.5
        else:
            junk[key] = "999999" if f.type in (f.TYPE_INT64, f.TYPE_UINT64, f.TYPE_SINT64) else 999999
    return junk


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@dataclass
class Pages:
    """Organisation A (owner, admin member) and B, through the edge."""

    owner: str
    admin: str
    admin_subject: str
    b_owner: str
    a: dict[str, str]  # collection -> resource name
    b: dict[str, str]


def _create_pages(stack: SuiteStack, token: str, run: str) -> dict[str, str]:
    company = create_company(stack, token, displayName=f"Hardening Co {run}")
    investor = stack.call(
        "POST",
        "/v1/investors",
        {
            "displayName": f"Hardening Fund {run}",
            "category": "INVESTOR_CATEGORY_INSTITUTIONAL",
            "investorType": "INVESTOR_TYPE_VENTURE_CAPITAL",
        },
        token,
    )
    assert investor.status == 200, investor.body
    program = stack.call(
        "POST",
        "/v1/programs",
        {"displayName": f"Hardening Partners {run}", "vendorName": "Vendor", "programType": "PROGRAM_TYPE_TECHNOLOGY"},
        token,
    )
    assert program.status == 200, program.body
    return {"companies": company["name"], "investors": investor.json()["name"], "programs": program.json()["name"]}


@pytest.fixture(scope="module")
def pages(suite_stack: SuiteStack) -> Pages:
    run = uuid.uuid4().hex[:8]
    roles = ("isv", "investor", "program")
    owner = suite_stack.token(f"hard-owner-{run}", roles=roles)
    b_owner = suite_stack.token(f"hard-b-owner-{run}", roles=roles)
    a, b = _create_pages(suite_stack, owner, run), _create_pages(suite_stack, b_owner, f"b-{run}")
    # A's admin joins the company page through the edge (invitation mailed over RabbitMQ).
    admin_subject = f"hard-admin-{run}"
    email = f"{admin_subject}@example.com"
    invited = suite_stack.call(
        "POST", f"/v1/{a['companies']}/invitations", {"email": email, "role": "PAGE_ROLE_ADMIN"}, owner
    )
    assert invited.status == 200, invited.body
    name, one_time = suite_stack.broker.invitation_token(email, "company_invitation")
    admin = suite_stack.token(admin_subject, roles=roles, email=email)
    accepted = suite_stack.call("POST", f"/v1/{name}:accept", {"token": one_time}, admin)
    assert accepted.status == 200, accepted.body
    return Pages(owner, admin, admin_subject, b_owner, a, b)


# ---------------------------------------------------------------------------------------------------
# Mass assignment
# ---------------------------------------------------------------------------------------------------

RESOURCES = {
    "companies": ("devinsider.company.v1.Company", {}),
    "investors": (
        "devinsider.investor.v1.Investor",
        {"category": "INVESTOR_CATEGORY_INSTITUTIONAL", "investorType": "INVESTOR_TYPE_VENTURE_CAPITAL"},
    ),
    "programs": ("devinsider.program.v1.Program", {"vendorName": "Vendor", "programType": "PROGRAM_TYPE_TECHNOLOGY"}),
}


def _message(full_name: str) -> descriptor.Descriptor:
    return descriptor_pool.Default().FindMessageTypeByName(full_name)


# Output-only fields computed for the caller (its own role on the page): the founder legitimately reads
# OWNER / full access there, so they are checked on a stranger's read instead.
PER_VIEWER = {"viewerRole", "viewerHasFullAccess"}


def _unchanged(junk: dict[str, Any], resource: dict[str, Any], per_viewer: bool = False) -> dict[str, Any]:
    """The junk values the resource took over (should be empty)."""
    return {k: v for k, v in junk.items() if resource.get(k) == v and (per_viewer or k not in PER_VIEWER)}


@pytest.mark.parametrize("collection", list(RESOURCES))
def test_output_only_fields_in_a_create_body_have_no_effect(
    suite_stack: SuiteStack, pages: Pages, collection: str
) -> None:
    full_name, required = RESOURCES[collection]
    junk = output_only_junk(_message(full_name), pages.b[collection])
    assert junk, f"{full_name} declares no OUTPUT_ONLY field"
    founder = suite_stack.token(f"hard-founder-{uuid.uuid4().hex[:8]}", roles=("isv", "investor", "program"))
    body = {"displayName": f"Mass {uuid.uuid4().hex[:6]}", **required, **junk}
    body["name"] = pages.b[collection]  # another page's name: a create names its resource itself
    created = suite_stack.call("POST", f"/v1/{collection}", body, founder)
    assert created.status in (200, 400), created.body
    if created.status == 400:
        return  # rejected outright: nothing was created
    resource = created.json()
    assert resource["name"] != pages.b[collection]
    assert _unchanged(junk, resource) == {}
    read = suite_stack.call("GET", f"/v1/{resource['name']}", token=founder).json()
    assert _unchanged(junk, read) == {}
    stranger = suite_stack.token(f"hard-stranger-{uuid.uuid4().hex[:8]}")
    seen = suite_stack.call("GET", f"/v1/{resource['name']}", token=stranger)
    if seen.status == 200:  # draft programs are hidden from strangers
        assert _unchanged(junk, seen.json(), per_viewer=True) == {}
    # B's page is untouched.
    b = suite_stack.call("GET", f"/v1/{pages.b[collection]}", token=pages.b_owner).json()
    assert not b["displayName"].startswith("Mass ")


@pytest.mark.parametrize("collection", list(RESOURCES))
def test_output_only_fields_in_an_update_have_no_effect(suite_stack: SuiteStack, pages: Pages, collection: str) -> None:
    full_name, _ = RESOURCES[collection]
    name = pages.a[collection]
    junk = output_only_junk(_message(full_name), pages.b[collection])
    before = suite_stack.call("GET", f"/v1/{name}", token=pages.owner).json()
    # 1. Junk in the body, the mask naming only a writable field.
    body = {"displayName": "Renamed by mask", **junk}
    response = suite_stack.call("PATCH", f"/v1/{name}?updateMask=displayName", body, pages.owner)
    assert response.status in (200, 400), response.body
    after = suite_stack.call("GET", f"/v1/{name}", token=pages.owner).json()
    assert _unchanged(junk, after) == {}
    assert after["displayName"] == "Renamed by mask" or response.status == 400
    # 2. The mask names the output-only fields themselves: rejected (INVALID_ARGUMENT), nothing written.
    mask = ",".join(junk)
    response = suite_stack.call("PATCH", f"/v1/{name}?updateMask={mask}", junk, pages.owner)
    assert response.status == 400, response.body
    again = suite_stack.call("GET", f"/v1/{name}", token=pages.owner).json()
    assert _unchanged(junk, again) == {}
    for key in junk:
        if key not in ("updateTime", *PER_VIEWER):
            assert again.get(key) == before.get(key), key


def test_another_pages_name_in_an_update_body_does_not_reach_it(suite_stack: SuiteStack, pages: Pages) -> None:
    b_before = suite_stack.call("GET", f"/v1/{pages.b['companies']}", token=pages.b_owner).json()
    response = suite_stack.call(
        "PATCH",
        f"/v1/{pages.a['companies']}?updateMask=displayName",
        {"name": pages.b["companies"], "displayName": "Hijacked"},
        pages.owner,
    )
    assert response.status == 400, response.body  # Envoy: the body's name collides with the path's
    b_after = suite_stack.call("GET", f"/v1/{pages.b['companies']}", token=pages.b_owner).json()
    assert b_after["displayName"] == b_before["displayName"] != "Hijacked"


def test_an_admin_cannot_make_itself_or_an_invitee_owner(suite_stack: SuiteStack, pages: Pages) -> None:
    company = pages.a["companies"]
    listed = suite_stack.call("GET", f"/v1/{company}/members", token=pages.owner).json()["members"]
    member = next(m["name"] for m in listed if m["subject"] == pages.admin_subject)  # named by its users/{id}
    promoted = suite_stack.call(
        "PATCH", f"/v1/{member}?updateMask=role", {"name": member, "role": "PAGE_ROLE_OWNER"}, pages.admin
    )
    assert promoted.status == 403, promoted.body
    invited = suite_stack.call(
        "POST", f"/v1/{company}/invitations", {"email": "boss@example.com", "role": "PAGE_ROLE_OWNER"}, pages.admin
    )
    assert invited.status == 403, invited.body
    # Output-only member fields (subject, email) in the body change nothing either.
    junk = suite_stack.call(
        "PATCH",
        f"/v1/{member}?updateMask=subject,email",
        {"name": member, "subject": "someone-else", "email": "x@evil.test"},
        pages.owner,
    )
    assert junk.status in (200, 400), junk.body
    members = suite_stack.call("GET", f"/v1/{company}/members", token=pages.owner).json()["members"]
    roles = {m["subject"]: m["role"] for m in members}
    assert roles[pages.admin_subject] == "PAGE_ROLE_ADMIN"
    assert "someone-else" not in roles


def test_credits_cannot_be_granted_or_bought_for_free(suite_stack: SuiteStack, pages: Pages) -> None:
    company = pages.a["companies"]
    balance = f"/v1/{company}/creditBalance"
    before = suite_stack.call("GET", balance, token=pages.owner)
    assert before.status == 200, before.body
    grant = suite_stack.call(
        "POST",
        f"/v1/{company}/ledgerEntries?requestId={uuid.uuid4().hex}",
        {"kind": "LEDGER_ENTRY_KIND_GRANT", "credits": "1000000"},
        pages.owner,
    )
    assert grant.status == 403, grant.body
    # An unlock whose output-only cost is negative would credit the page if it were taken over.
    unlock = suite_stack.call(
        "POST",
        f"/v1/{company}/unlocks?requestId={uuid.uuid4().hex}",
        {"target": {"kind": "PAGE_KIND_INVESTOR", "name": pages.b["investors"]}, "cost": "-1000000"},
        pages.owner,
    )
    assert unlock.status != 200 or int(unlock.json().get("cost", "0")) >= 0, unlock.body
    checkout = suite_stack.call(
        "POST",
        f"/v1/{company}/checkouts?requestId={uuid.uuid4().hex}",
        {
            "plan": "plans/none",
            "successUrl": "https://app.example.com/done",
            "state": "CHECKOUT_STATE_COMPLETED",
            "amount": {"currencyCode": "EUR", "units": "0"},
        },
        pages.owner,
    )
    assert checkout.status == 400, checkout.body
    after = suite_stack.call("GET", balance, token=pages.owner)
    assert after.json() == before.json()


# ---------------------------------------------------------------------------------------------------
# Pagination
# ---------------------------------------------------------------------------------------------------


# Lists whose parent only exists after a flow of its own: their paging (sizes, a foreign token) is checked there.
PAGED_ELSEWHERE = {"ContactService.ListContactMessages": "tests/e2e/test_contact_requests.py"}


def _list_routes() -> list[tuple[Rpc, Binding]]:
    return [
        (rpc, b)
        for rpc in RPCS
        if "page_size" in rpc.request_fields() and rpc.short not in PAGED_ELSEWHERE
        for b in rpc.bindings
        if b.verb == "get"
    ]


LIST_ROUTES = _list_routes()


def test_every_list_rpc_has_a_get_route() -> None:
    lists = {rpc.short for rpc in RPCS if "page_size" in rpc.request_fields()}
    assert lists == {rpc.short for rpc, _ in LIST_ROUTES} | set(PAGED_ELSEWHERE)
    assert len(lists) >= 20


def _path(suite_stack: SuiteStack, pages: Pages, binding: Binding) -> str:
    variable = _VARIABLE.search(binding.template)
    if variable is None:
        return binding.template
    pattern = variable.group(2)
    collection = pattern.split("/", 1)[0]
    if collection in PAGE_COLLECTIONS:
        value = pattern.replace(f"{collection}/*", pages.a[collection], 1)
    elif collection == "dimensions":
        value = "dimensions/industry"
    elif collection == "users":
        value = "users/me"  # the caller's own notifications
    else:
        raise AssertionError(f"no value for {pattern} in {binding.template}")
    return binding.template[: variable.start()] + value + binding.template[variable.end() :]


# Filters a List requires besides its parent.
REQUIRED_QUERY = {
    "MatchingService.ListCompanyMatches": "?targetKind=PAGE_KIND_INVESTOR",
    "ContactService.ListContactRequests": "?direction=CONTACT_REQUEST_DIRECTION_INCOMING",
}


@pytest.fixture(scope="module")
def staff(suite_stack: SuiteStack) -> str:
    return suite_stack.token(f"hard-staff-{uuid.uuid4().hex[:8]}", roles=("admin",))


@pytest.mark.parametrize(("rpc", "binding"), LIST_ROUTES, ids=[f"{r.short}[{b.collection}]" for r, b in LIST_ROUTES])
def test_page_size_and_token(suite_stack: SuiteStack, pages: Pages, staff: str, rpc: Rpc, binding: Binding) -> None:
    path = _path(suite_stack, pages, binding) + REQUIRED_QUERY.get(rpc.short, "")
    join = "&" if "?" in path else "?"
    ok = suite_stack.call("GET", f"{path}{join}pageSize=1", token=staff)
    assert ok.status == 200, ok.body
    huge = suite_stack.call("GET", f"{path}{join}pageSize=100000", token=staff)
    assert huge.status == 200, huge.body
    items = [v for v in huge.json().values() if isinstance(v, list)]
    assert all(len(v) <= MAX_PAGE_SIZE for v in items)
    negative = suite_stack.call("GET", f"{path}{join}pageSize=-1", token=staff)
    assert negative.status == 400, negative.body
    garbage = suite_stack.call("GET", f"{path}{join}pageToken=not-a-token", token=staff)
    assert garbage.status == 400, garbage.body


# ---------------------------------------------------------------------------------------------------
# Body limit
# ---------------------------------------------------------------------------------------------------


BODY_LIMIT = 16 * 1024 * 1024  # the suite's Envoy runs with the default --body-limit-mb 16


def test_a_body_over_the_limit_on_a_service_route_is_413(suite_stack: SuiteStack, pages: Pages) -> None:
    """A logo upload (HttpBody, buffered by the transcoder) over the limit: 413 with a JSON status."""
    big = b"\x89PNG" + b"x" * BODY_LIMIT
    headers = {"content-type": "image/png", **_bearer(pages.owner)}
    response = request("POST", suite_stack.url(f"/v1/{pages.a['companies']}:uploadLogo"), big, headers)
    assert response.status == 413, response.body[:200]
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    assert response.json()["code"] != 0, response.body[:200]


def test_a_json_body_over_the_services_message_cap_is_413(suite_stack: SuiteStack, pages: Pages) -> None:
    big = b'{"displayName": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    headers = {"content-type": "application/json", **_bearer(pages.owner)}
    response = request("POST", suite_stack.url("/v1/companies"), big, headers)
    assert response.status == 413, response.body[:200]
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    # Under the limit the body reaches the service, whose validation answers (not Envoy).
    within = b'{"displayName": "' + b"x" * (1024 * 1024) + b'"}'
    answered = request("POST", suite_stack.url("/v1/companies"), within, headers)
    assert answered.status == 400 and "display_name" in answered.body.decode(), answered.body[:200]

"""The platform blacklist, set at the user service through the edge, is enforced by the other services
of the stack (each asks the real user service's CheckUserAccess, answers cached ACCESS_CACHE_TTL_SECONDS)."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select

from devinsider_common.outbox.tables import PENDING, PUBLISHED, outbox_messages
from devinsider_gateway.testing.http import Response

from .suite_stack import (
    ACCESS_CACHE_TTL_SECONDS,
    EVENTUALLY_SECONDS,
    SuiteStack,
    create_company,
    status_of,
    unique,
)

# A refusal is due within the access-cache TTL; the deadline leaves room for a slow machine.
REFUSAL_DEADLINE_SECONDS = ACCESS_CACHE_TTL_SECONDS + 9.0


def _eventually_refused(stack: SuiteStack, method: str, path: str, token: str) -> Response:
    """The first answer that is not a success, polling until the deadline (access answers are cached
    for a bounded time, so the refusal arrives within the TTL, not at once)."""
    deadline = time.monotonic() + REFUSAL_DEADLINE_SECONDS
    while True:
        response = stack.call(method, path, token=token)
        if response.status != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def _blacklist_domain(stack: SuiteStack, domain: str) -> str:
    admin = stack.token(unique("staff-quinn"), roles=("admin",), email="quinn@staff.devinsider.example")
    entry = {"kind": "BLACKLIST_KIND_EMAIL_DOMAIN", "value": domain, "reason": "fraudulent sign-ups"}
    created = stack.call("POST", "/v1/blacklistEntries", entry, admin)
    assert created.status == 200, created.body
    assert (created.json()["kind"], created.json()["value"]) == ("BLACKLIST_KIND_EMAIL_DOMAIN", domain)
    return str(created.json()["name"])


def test_a_blacklisted_domain_is_refused_by_the_company_and_investor_services(suite_stack: SuiteStack) -> None:
    domain = f"blk{uuid.uuid4().hex[:10]}.example"
    isv_subject = unique("isv-rob")
    isv = suite_stack.token(isv_subject, email=f"rob@{domain}")
    company = create_company(suite_stack, isv, displayName="Rob Rogue Software")["name"]
    investor = suite_stack.token(unique("inv-sam"), roles=("investor",), email=f"sam@{domain}")
    investor_page = suite_stack.call(
        "POST",
        "/v1/investors",
        {
            "displayName": "Sam Shady Capital",
            "category": "INVESTOR_CATEGORY_INDIVIDUAL",
            "investorType": "INVESTOR_TYPE_BUSINESS_ANGEL",
        },
        investor,
    )
    assert investor_page.status == 200, investor_page.body
    # Both services now hold an "allowed" answer for these accounts in their access cache.
    assert suite_stack.call("GET", f"/v1/{company}", token=isv).json()["viewerRole"] == "PAGE_ROLE_OWNER"
    bystander = suite_stack.token(unique("isv-tina"), email="tina@elsewhere.example")

    _blacklist_domain(suite_stack, domain)

    refused = _eventually_refused(suite_stack, "GET", f"/v1/{company}", isv)
    assert status_of(refused) == (403, 7, "BLACKLISTED_DOMAIN"), refused.body
    edit = suite_stack.call("PATCH", f"/v1/{company}?updateMask=tagline", {"tagline": "still here"}, isv)
    assert status_of(edit) == (403, 7, "BLACKLISTED_DOMAIN"), edit.body
    assert status_of(suite_stack.call("GET", "/v1/users/me", token=isv)) == (403, 7, "BLACKLISTED_DOMAIN")
    refused_investor = _eventually_refused(suite_stack, "GET", f"/v1/{investor_page.json()['name']}", investor)
    assert status_of(refused_investor) == (403, 7, "BLACKLISTED_DOMAIN"), refused_investor.body

    # The account is refused, not the page; other accounts are untouched.
    assert suite_stack.call("GET", f"/v1/{company}").status == 200
    assert suite_stack.call("GET", f"/v1/{company}", token=bystander).status == 200
    assert "tagline" not in suite_stack.call("GET", f"/v1/{company}").json()


def test_a_blacklisted_domain_is_refused_by_the_program_service(suite_stack: SuiteStack) -> None:
    domain = f"blk{uuid.uuid4().hex[:10]}.example"
    manager = suite_stack.token(unique("prog-uma"), roles=("program",), email=f"uma@{domain}")
    body = {"displayName": "Shady Partners", "vendorName": "Shady Inc", "programType": "PROGRAM_TYPE_REFERRAL"}
    program = suite_stack.call("POST", "/v1/programs", body, manager)
    assert program.status == 200, program.body
    name = program.json()["name"]
    assert suite_stack.call("GET", f"/v1/{name}", token=manager).status == 200

    _blacklist_domain(suite_stack, domain)

    refused = _eventually_refused(suite_stack, "GET", f"/v1/{name}", manager)
    assert status_of(refused) == (403, 7, "BLACKLISTED_DOMAIN"), refused.body
    publish = suite_stack.call("POST", f"/v1/{name}:publish", {}, manager)
    assert status_of(publish) == (403, 7, "BLACKLISTED_DOMAIN"), publish.body


def test_the_blacklist_change_event_is_accepted_by_rabbitmq(suite_stack: SuiteStack) -> None:
    """BlacklistChanged goes to `user_updates_exchange` (routing key `blacklist.changed`, README: Events);
    the relay publishes with `mandatory`, so the seed topology must route it somewhere for the broker to
    accept it. Read from the user service's outbox: published, or refused with the broker's reason."""
    entry = _blacklist_domain(suite_stack, f"blk{uuid.uuid4().hex[:10]}.example")
    query = (
        select(outbox_messages.c.status, outbox_messages.c.last_error, outbox_messages.c.routing_key)
        .where(outbox_messages.c.event_type == "devinsider.user.v1.BlacklistChanged")
        .where(outbox_messages.c.body.contains(f'"externalId":"{entry}"'))
    )
    deadline = time.monotonic() + EVENTUALLY_SECONDS
    while True:
        with suite_stack.user.engine.connect() as connection:
            row = connection.execute(query).one_or_none()
        settled = row is not None and (row.status != PENDING or row.last_error is not None)
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert row is not None, f"no BlacklistChanged in the user service's outbox for {entry}"
    assert (row.routing_key, row.status, row.last_error) == ("blacklist.changed", PUBLISHED, None)

"""REST/JSON through Envoy to the real investor service: create, directory search with query-parameter
filters, pagination with pageSize/pageToken (bad tokens are 400), int64 as strings, Odoo events."""

from __future__ import annotations

import uuid
from typing import Any

from devinsider.investor.v1 import events_pb2
from devinsider_common.outbox import topology

from .suite_stack import SuiteStack, field_violations, status_of, unique

ODOO_INVESTOR_QUEUE = topology.DIRECT_QUEUES[topology.ODOO_INVESTOR]


def _create(stack: SuiteStack, owner: str, **fields: Any) -> dict[str, Any]:
    response = stack.call("POST", "/v1/investors", fields, owner)
    assert response.status == 200, response.body
    return dict(response.json())


def _eur(amount_minor: int) -> dict[str, Any]:
    return {"currencyCode": "EUR", "amountMinor": str(amount_minor)}


def test_create_then_read_with_int64_amounts_as_strings_and_the_event_reaches_odoo(suite_stack: SuiteStack) -> None:
    subject = unique("inv-grace")
    owner = suite_stack.token(subject, roles=("investor",))
    created = _create(
        suite_stack,
        owner,
        displayName="Northwind Ventures",
        category="INVESTOR_CATEGORY_INSTITUTIONAL",
        investorType="INVESTOR_TYPE_VENTURE_CAPITAL",
        ticketMin=_eur(500_000_00),
        ticketMax=_eur(5_000_000_00),
        fundingStages=["seed", "series_a"],
        contact={"email": "deals@northwind.example"},
    )
    assert created["name"].startswith("investors/") and created["viewerRole"] == "PAGE_ROLE_OWNER"
    assert created["ticketMin"] == {"currencyCode": "EUR", "amountMinor": "50000000"}
    assert created["ticketMax"]["amountMinor"] == "500000000"

    public = suite_stack.call("GET", f"/v1/{created['name']}").json()
    assert public["investorType"] == "INVESTOR_TYPE_VENTURE_CAPITAL" and public["fundingStages"] == ["seed", "series_a"]
    assert "contact" not in public and "viewerRole" not in public
    member = suite_stack.call("GET", f"/v1/{created['name']}", token=owner).json()
    assert member["contact"] == {"email": "deals@northwind.example"}

    isv = suite_stack.token(unique("isv-heidi"))  # the isv role may not create investor pages
    refused = suite_stack.call("POST", "/v1/investors", {"displayName": "Nope"}, isv)
    assert status_of(refused)[:2] == (403, 7), refused.body

    expected = ["devinsider.investor.v1.InvestorCreated", "devinsider.investor.v1.MemberAdded"]
    events = suite_stack.broker.events_about(ODOO_INVESTOR_QUEUE, created["name"], expected)
    assert [e.amqp_type for e in events] == expected
    assert all(e.envelope.source == "investor" and e.properties.message_id == e.envelope.event_id for e in events)
    assert events[0].payload(events_pb2.InvestorCreated).investor.display_name == "Northwind Ventures"
    assert events[1].payload(events_pb2.MemberAdded).member.subject == subject


def test_directory_search_filters_and_pages_through_the_edge(suite_stack: SuiteStack) -> None:
    tag = f"zq{uuid.uuid4().hex[:8]}"  # one word only this test's pages hold
    owner = suite_stack.token(unique("inv-ivan"), roles=("investor",))
    angels = [
        _create(
            suite_stack,
            owner,
            displayName=f"{letter} Angels {tag}",
            category="INVESTOR_CATEGORY_INDIVIDUAL",
            investorType="INVESTOR_TYPE_BUSINESS_ANGEL",
        )["name"]
        for letter in ("Alpha", "Bravo", "Charlie")
    ]
    fund = _create(
        suite_stack,
        owner,
        displayName=f"Delta Fund {tag}",
        category="INVESTOR_CATEGORY_INSTITUTIONAL",
        investorType="INVESTOR_TYPE_VENTURE_CAPITAL",
        description=f"Series A {tag} specialists",
    )["name"]

    everything = suite_stack.call("GET", f"/v1/investors?query={tag}")
    assert everything.status == 200, everything.body
    assert [i["name"] for i in everything.json()["investors"]] == [*angels, fund]  # display_name order
    assert everything.json()["totalSize"] == 4 and "nextPageToken" not in everything.json()

    # Criteria filters are what a plan sells (directory_filters): staff need no entitled page (test_entitlements).
    staff = suite_stack.token(unique("staff"), roles=("admin",))
    by_type = f"/v1/investors?query={tag}&investorTypes="
    only_angels = suite_stack.call("GET", f"{by_type}INVESTOR_TYPE_BUSINESS_ANGEL", token=staff)
    assert only_angels.status == 200, only_angels.body
    assert [i["name"] for i in only_angels.json()["investors"]] == angels
    no_match = suite_stack.call("GET", f"{by_type}INVESTOR_TYPE_PRIVATE_EQUITY", token=staff)
    assert no_match.status == 200 and "investors" not in no_match.json()

    seen: list[str] = []
    pages = 0
    token = ""
    while True:
        suffix = f"&pageToken={token}" if token else ""
        page = suite_stack.call("GET", f"/v1/investors?query={tag}&pageSize=3{suffix}")
        assert page.status == 200, page.body
        body = page.json()
        assert len(body["investors"]) <= 3
        seen += [i["name"] for i in body["investors"]]
        pages += 1
        token = body.get("nextPageToken", "")
        if not token:
            break
    assert (pages, seen) == (2, [*angels, fund])

    first = suite_stack.call("GET", f"/v1/investors?query={tag}&pageSize=2").json()
    other_filters = suite_stack.call(
        "GET", f"{by_type}INVESTOR_TYPE_BUSINESS_ANGEL&pageToken={first['nextPageToken']}", token=staff
    )
    assert status_of(other_filters)[:2] == (400, 3), other_filters.body
    bad_token = suite_stack.call("GET", "/v1/investors?pageToken=not-a-token")
    assert status_of(bad_token)[:2] == (400, 3), bad_token.body
    assert field_violations(bad_token) == ["page_token"]
    negative = suite_stack.call("GET", "/v1/investors?pageSize=-1")
    assert status_of(negative)[:2] == (400, 3), negative.body
    not_a_number = suite_stack.call("GET", "/v1/investors?pageSize=ten")
    assert not_a_number.status == 400 and not_a_number.json()["code"] == 3  # refused by Envoy's transcoder

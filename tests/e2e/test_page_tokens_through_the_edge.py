"""Page tokens through the edge on PostgreSQL: a crafted token is a 400, never a 500, and a token works
only for the caller it was issued to.

Page tokens used to be unsigned base64 JSON of the keyset position and a fingerprint of the filters;
a client could rebuild one (the fingerprint is a hash of the filters it sent) with values of another
type or count, which then reached the database: 500. The crafted tokens below are exactly such
valid old-format tokens, with the right fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from company_service.domain.directory import DirectoryQuery
from matching_service.domain.taxonomy import Dimension

from .suite_stack import SuiteStack, create_company, field_violations


def old_format_token(after: list[Any], filters: dict[str, Any]) -> str:
    """A token as the API issued them before they were signed: base64 of the position and fingerprint."""
    fingerprint = hashlib.sha256(json.dumps(filters, sort_keys=True, default=str).encode()).hexdigest()[:16]
    payload = json.dumps({"a": after, "f": fingerprint}, default=str).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


@dataclass(frozen=True)
class ListRoute:
    """A List route, the filters its service fingerprints for a plain request, and crafted positions."""

    path: str  # `{company}` is replaced by the test company's name
    filters: dict[str, Any]
    crafted: list[list[Any]]


ROUTES = {
    # billing: the plan catalogue's position is (price, id), unpacked in the repository.
    "billing.ListPlans": ListRoute("/v1/plans", {"page_kind": None, "kind": None, "show_inactive": False}, [[1, 2, 3]]),
    # billing: the ledger's position is an id, compared with a text column.
    "billing.ListLedgerEntries": ListRoute(
        "/v1/{company}/ledgerEntries", {"parent": "{company}", "kind": None}, [[{"x": 1}], [[1, 2]]]
    ),
    # matching: the taxonomy's position is an offset.
    "matching.ListCriteria": ListRoute(
        "/v1/dimensions/industry/criteria", {"d": int(Dimension.INDUSTRY), "q": "", "p": "", "x": False}, [["x"]]
    ),
    # company: the directory's position is (sort key, id).
    "company.ListCompanies": ListRoute("/v1/companies", DirectoryQuery().fingerprint(), [["x"], [{"x": 1}, "id"]]),
}


@pytest.fixture(scope="module")
def owner(suite_stack: SuiteStack) -> tuple[str, str]:
    """(token, company name) of a company owner."""
    token = suite_stack.token(f"tokens-owner-{uuid.uuid4().hex[:8]}")
    company = create_company(suite_stack, token, displayName=f"Token Co {uuid.uuid4().hex[:6]}")
    return token, company["name"]


def _filled(value: Any, company: str) -> Any:
    """`value` with `{company}` replaced by the company's name (in a path or in the filters' values)."""
    if isinstance(value, dict):
        return {key: _filled(item, company) for key, item in value.items()}
    return value.replace("{company}", company) if isinstance(value, str) else value


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_crafted_token_is_a_400_on_page_token(suite_stack: SuiteStack, owner: tuple[str, str], route: str) -> None:
    token, company = owner
    spec = ROUTES[route]
    path, filters = _filled(spec.path, company), _filled(spec.filters, company)
    assert suite_stack.call("GET", path, token=token).status == 200  # the route answers without a token
    for after in spec.crafted:
        response = suite_stack.call("GET", f"{path}?pageToken={old_format_token(after, filters)}", token=token)
        assert response.status == 400, (after, response.status, response.body[:300])
        assert field_violations(response) == ["page_token"], response.body[:300]


def test_a_token_works_only_for_the_caller_it_was_issued_to(suite_stack: SuiteStack) -> None:
    run = uuid.uuid4().hex[:8]
    alice, bob = suite_stack.token(f"tokens-alice-{run}"), suite_stack.token(f"tokens-bob-{run}")
    path = "/v1/dimensions/industry/criteria?pageSize=1"
    first = suite_stack.call("GET", path, token=alice)
    assert first.status == 200, first.body
    next_page = f"{path}&pageToken={first.json()['nextPageToken']}"
    for other in (bob, None):
        replayed = suite_stack.call("GET", next_page, token=other)
        assert replayed.status == 400, replayed.body[:300]
        assert field_violations(replayed) == ["page_token"]
        assert "another caller" in replayed.json()["message"]
    second = suite_stack.call("GET", next_page, token=alice)
    assert second.status == 200, second.body
    assert second.json()["criteria"] != first.json()["criteria"]

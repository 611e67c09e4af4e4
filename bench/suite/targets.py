"""What the suite bench measures: the hot reads and the writes users meet, each as one `Call` (REST and
gRPC forms, bench/calls.py) with a check of a sample answer, so that a refused or wrong call is reported
as an error instead of as fast throughput.

A read is one request sent again and again (h2load). A write must change something each time, so it is
built per request: from the page acting (`actor`, one per driver worker) and that actor's i-th request;
None when the actor has no distinct target left (see `Write.build`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.calls import Call, build_call
from bench.load.seed import Page
from devinsider.billing.v1 import billing_pb2
from devinsider.company.v1 import company_pb2
from devinsider.matching.v1 import matching_pb2
from devinsider.user.v1 import user_pb2

# A sample answer (JSON, as REST returns it and as MessageToDict writes a gRPC one) -> what is wrong.
Check = Callable[[dict[str, Any]], str | None]


def _no_check(_: dict[str, Any]) -> str | None:
    return None


@dataclass(frozen=True)
class Scenario:
    """The seeded pages the targets act on (bench/suite/world.py builds it)."""

    showcase: Page  # the company read by its owner, a stranger and an unlocker
    unlocker: Page  # an investor page that unlocked the showcase (read as its owner)
    stranger: Page  # an investor page with no relation to the showcase
    industry: str  # the showcase's, with `country`: ListCompanies' filters
    country: str
    editors: list[Page]  # companies UpdateCompany edits, one per worker
    targets: list[Page]  # distinct pages for CreateUnlock and CreateFavorite (never the showcase)


@dataclass(frozen=True)
class Read:
    name: str
    service: str
    call: Call
    check: Check = _no_check


@dataclass(frozen=True)
class Write:
    name: str
    service: str
    actor: str  # "company" or "investor": the kind of page each worker acts as
    # (actor, worker, i) -> the i-th request of that worker, None when it ran out of distinct targets
    build: Callable[[Page, int, int], Call | None]
    check: Check = _no_check


def _expect(path: str, wanted: Any) -> Check:
    def check(answer: dict[str, Any]) -> str | None:
        found = answer.get(path)
        return None if found == wanted else f"{path} is {found!r}, expected {wanted!r}"

    return check


def _non_empty(path: str) -> Check:
    def check(answer: dict[str, Any]) -> str | None:
        return None if answer.get(path) else f"no {path} in the answer"

    return check


def _public_view(answer: dict[str, Any]) -> str | None:
    return "a stranger sees the contacts" if "contact" in answer or answer.get("viewerHasFullAccess") else None


def _get_company(label: str, s: Scenario, token: str, check: Check) -> Read:
    name = s.showcase.name
    call = build_call(
        "GetCompany",
        ("GET", f"/v1/{name}", None),
        ("/devinsider.company.v1.CompanyService/GetCompany", company_pb2.GetCompanyRequest, {"name": name}),
        token,
    )
    return Read(f"GetCompany ({label})", "company", call, check)


def reads(s: Scenario) -> list[Read]:
    matches = {"parent": s.showcase.name, "targetKind": "PAGE_KIND_INVESTOR", "pageSize": 20}
    directory = f"industries={s.industry}&hqCountryCodes={s.country}&pageSize=20&viewerPage={s.stranger.name}"
    balance = f"{s.unlocker.name}/creditBalance"
    return [
        _get_company("owner", s, s.showcase.token, _expect("viewerRole", "PAGE_ROLE_OWNER")),
        _get_company("stranger", s, s.stranger.token, _public_view),
        _get_company("unlocker", s, s.unlocker.token, _expect("viewerHasFullAccess", True)),
        Read(
            "ListCompanies (industry+country)",
            "company",
            build_call(
                "ListCompanies",
                ("GET", f"/v1/companies?{directory}", None),
                (
                    "/devinsider.company.v1.CompanyService/ListCompanies",
                    company_pb2.ListCompaniesRequest,
                    {
                        "industries": [s.industry],
                        "hqCountryCodes": [s.country],
                        "pageSize": 20,
                        "viewerPage": s.stranger.name,
                    },
                ),
                s.stranger.token,  # an investor browsing the directory as its page (filters: bench/suite/run.py)
            ),
            _non_empty("companies"),
        ),
        Read(
            "ListCompanyMatches",
            "matching",
            build_call(
                "ListCompanyMatches",
                ("GET", f"/v1/{s.showcase.name}/matches?targetKind=PAGE_KIND_INVESTOR&pageSize=20", None),
                (
                    "/devinsider.matching.v1.MatchingService/ListCompanyMatches",
                    matching_pb2.ListCompanyMatchesRequest,
                    matches,
                ),
                s.showcase.token,
            ),
            _non_empty("matches"),
        ),
        Read(
            "GetMe",
            "user",
            build_call(
                "GetMe",
                ("GET", "/v1/users/me", None),
                ("/devinsider.user.v1.UserService/GetMe", user_pb2.GetMeRequest, {}),
                s.showcase.token,
            ),
            _non_empty("name"),
        ),
        Read(
            "GetCreditBalance",
            "billing",
            build_call(
                "GetCreditBalance",
                ("GET", f"/v1/{balance}", None),
                (
                    "/devinsider.billing.v1.BillingService/GetCreditBalance",
                    billing_pb2.GetCreditBalanceRequest,
                    {"name": balance},
                ),
                s.unlocker.token,
            ),
            _non_empty("balance"),
        ),
    ]


def _update_company(actor: Page, worker: int, i: int) -> Call:
    description = f"Software for mid-sized companies, revision {worker}.{i}."  # a new value every time
    return build_call(
        "UpdateCompany",
        ("PATCH", f"/v1/{actor.name}?updateMask=description", {"description": description}),
        (
            "/devinsider.company.v1.CompanyService/UpdateCompany",
            company_pb2.UpdateCompanyRequest,
            {"company": {"name": actor.name, "description": description}, "updateMask": "description"},
        ),
        actor.token,
    )


def _unlock(actor: Page, target: Page) -> Call:
    request_id = uuid.uuid4().hex
    spend = {"target": {"kind": "PAGE_KIND_COMPANY", "name": target.name}}
    return build_call(
        "CreateUnlock",
        ("POST", f"/v1/{actor.name}/unlocks?requestId={request_id}", spend),
        (
            "/devinsider.billing.v1.BillingService/CreateUnlock",
            billing_pb2.CreateUnlockRequest,
            {"parent": actor.name, "unlock": spend, "requestId": request_id},
        ),
        actor.token,
    )


def _favorite(actor: Page, target: Page) -> Call:
    body = {"page": {"kind": "PAGE_KIND_COMPANY", "name": target.name}}
    return build_call(
        "CreateFavorite",
        ("POST", f"/v1/{actor.name}/favorites", body),
        (
            "/devinsider.matching.v1.MatchingService/CreateFavorite",
            matching_pb2.CreateFavoriteRequest,
            {"parent": actor.name, "favorite": body},
        ),
        actor.token,
    )


def _on_distinct_targets(
    targets: list[Page], build: Callable[[Page, Page], Call]
) -> Callable[[Page, int, int], Call | None]:
    """Worker w's i-th request on its i-th distinct target, None past the last; workers start at different
    places, so that they seldom write about the same page at the same time."""

    def draw(actor: Page, worker: int, i: int) -> Call | None:
        return build(actor, targets[(worker + i) % len(targets)]) if i < len(targets) else None

    return draw


def writes(s: Scenario) -> list[Write]:
    unlock, favorite = _on_distinct_targets(s.targets, _unlock), _on_distinct_targets(s.targets, _favorite)
    return [
        Write("UpdateCompany", "company", "company", _update_company, _non_empty("updateTime")),
        Write("CreateUnlock", "billing", "investor", unlock, _expect("cost", "1")),
        Write("CreateFavorite", "matching", "investor", favorite, _non_empty("name")),
    ]

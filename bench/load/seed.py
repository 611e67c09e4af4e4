"""Realistic data through the REST edge: ISV companies complete for matchmaking, investor pages with
their stages and tickets and credits, published programs; each with a criteria profile (matching takes
what a page holds from the page, the profile holds the rest)."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from devinsider_common.auth.dev_issuer import issue_token
from devinsider_gateway.testing.http import Response, request

INDUSTRIES = ["fintech", "retail", "manufacturing", "healthtech", "logistics"]
COUNTRIES = ["FR", "DE", "ES", "IT", "NL"]
STAGES = ["seed", "series_a", "series_b"]


@dataclass(frozen=True)
class Page:
    name: str
    subject: str
    token: str  # the owner's bearer token


@dataclass(frozen=True)
class Seeded:
    companies: list[Page]
    investors: list[Page]
    programs: list[Page]


def _eur(amount: int) -> dict[str, str]:
    return {"currencyCode": "EUR", "amountMinor": str(amount)}


def _criterion(dimension: str, *codes: str) -> dict[str, Any]:
    return {"dimension": f"DIMENSION_{dimension}", "codes": list(codes)}


def edge_call(base_url: str, method: str, path: str, body: dict[str, Any] | None, token: str) -> dict[str, Any]:
    """One REST call through the edge as `token`; anything but 200 raises."""
    response: Response = request(method, base_url + path, body, {"authorization": f"Bearer {token}"})
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: {response.status} {response.body[:300]!r}")
    return dict(response.json()) if response.body else {}


class Seeder:
    """Pages through the edge; a page's random choices depend on its index only, so pages can be
    created in parallel and still be the same from run to run."""

    def __init__(self, base_url: str, keys: Any, issuer: str, tag: str) -> None:
        self.base_url, self.keys, self.issuer, self.tag = base_url, keys, issuer, tag

    def token(self, subject: str, role: str) -> str:
        return issue_token(
            self.keys,
            self.issuer,
            subject,
            roles=[role],
            email=f"{subject}@bench.example",
            given_name=subject.split("-")[0].title(),
            family_name="Bench",
            ttl_seconds=4 * 3600,
        )

    def call(self, method: str, path: str, body: dict[str, Any] | None, token: str) -> dict[str, Any]:
        return edge_call(self.base_url, method, path, body, token)

    def company(self, index: int) -> Page:
        subject = f"isv{index}-{self.tag}"
        token = self.token(subject, "isv")
        rng = random.Random(f"company{index}")
        industry = rng.choice(INDUSTRIES)
        body = {
            "displayName": f"Bench Software {index} {self.tag}",
            "description": f"{industry.title()} software for mid-sized companies.",
            "websiteUrl": f"https://isv{index}.bench.example",
            "hqCountryCode": rng.choice(COUNTRIES),
            "foundingYear": 2005 + index % 18,
            "companySize": "COMPANY_SIZE_11_50",
            "industries": [industry],
            "solutionCategories": ["analytics"],
            "targetRegions": ["europe"],
            "licensingModels": ["LICENSING_MODEL_SAAS"],
            "distributionChannels": ["DISTRIBUTION_CHANNEL_DIRECT"],
            "contact": {"email": f"hq@isv{index}.bench.example", "phoneNumber": "+33612345678"},
            "financials": {
                "revenueRange": "REVENUE_RANGE_1M_5M",
                "lookingForFunding": True,
                "fundingTarget": _eur(1_000_000 * rng.randint(1, 4)),
            },
            "pitch": {"painPoint": "Slow reporting", "differentiator": "Minutes to install", "team": "Engineers"},
        }
        name = self.call("POST", "/v1/companies", body, token)["name"]
        # Matching takes the page's facts from the page; the profile holds what the page does not.
        profile = {"criteria": [_criterion("FUNDING_STAGE", rng.choice(STAGES))]}
        self.call("PATCH", f"/v1/{name}/criteriaProfile", profile, token)
        return Page(name, subject, token)

    def investor(self, index: int, credits: int) -> Page:
        subject = f"inv{index}-{self.tag}"
        token = self.token(subject, "investor")
        rng = random.Random(f"investor{index}")
        body = {
            "displayName": f"Bench Ventures {index} {self.tag}",
            "category": "INVESTOR_CATEGORY_INSTITUTIONAL",
            "investorType": "INVESTOR_TYPE_VENTURE_CAPITAL",
            "fundingStages": [rng.choice(STAGES)],
            "ticketMin": _eur(500_000),
            "ticketMax": _eur(3_000_000),
        }
        name = self.call("POST", "/v1/investors", body, token)["name"]
        self._match_on_the_page(name, token)
        staff = self.token(f"staff-{self.tag}", "admin")
        grant = {"kind": "LEDGER_ENTRY_KIND_GRANT", "credits": str(credits), "description": "bench credits"}
        self.call("POST", f"/v1/{name}/ledgerEntries?requestId={uuid.uuid4().hex}", grant, staff)
        return Page(name, subject, token)

    def program(self, index: int) -> Page:
        subject = f"prog{index}-{self.tag}"
        token = self.token(subject, "program")
        rng = random.Random(f"program{index}")
        body = {
            "displayName": f"Bench Partners {index} {self.tag}",
            "vendorName": "Contoso",
            "programType": "PROGRAM_TYPE_TECHNOLOGY",
            "industries": [rng.choice(INDUSTRIES)],
        }
        name = self.call("POST", "/v1/programs", body, token)["name"]
        self.call("POST", f"/v1/{name}:publish", {}, token)
        self._match_on_the_page(name, token)
        return Page(name, subject, token)

    def _match_on_the_page(self, name: str, token: str) -> None:
        """A criteria profile holding nothing of its own: matching follows what the page holds."""
        self.call("PATCH", f"/v1/{name}/criteriaProfile?updateMask=criteria", {}, token)


def seed(
    base_url: str, keys: Any, issuer: str, companies: int, investors: int, programs: int, parallel: int = 8
) -> Seeded:
    """Investors get 10 credits per company (enough to unlock each of them)."""
    seeder = Seeder(base_url, keys, issuer, uuid.uuid4().hex[:6])
    with ThreadPoolExecutor(parallel) as pool:
        return Seeded(
            companies=list(pool.map(seeder.company, range(companies))),
            investors=list(pool.map(lambda i: seeder.investor(i, credits=10 * companies), range(investors))),
            programs=list(pool.map(seeder.program, range(programs))),
        )

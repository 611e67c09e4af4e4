"""Realistic data through the REST edge: ISV companies complete for matchmaking with criteria profiles,
investor pages with profiles and credits, published programs with profiles."""

from __future__ import annotations

import random
import uuid
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


class Seeder:
    def __init__(self, base_url: str, keys: Any, issuer: str, tag: str) -> None:
        self.base_url, self.keys, self.issuer, self.tag = base_url, keys, issuer, tag
        self.rng = random.Random(7)

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
        response: Response = request(method, self.base_url + path, body, {"authorization": f"Bearer {token}"})
        if response.status != 200:
            raise RuntimeError(f"seeding {method} {path}: {response.status} {response.body[:300]!r}")
        return dict(response.json()) if response.body else {}

    def company(self, index: int) -> Page:
        subject = f"isv{index}-{self.tag}"
        token = self.token(subject, "isv")
        industry = self.rng.choice(INDUSTRIES)
        body = {
            "displayName": f"Bench Software {index} {self.tag}",
            "description": f"{industry.title()} software for mid-sized companies.",
            "websiteUrl": f"https://isv{index}.bench.example",
            "hqCountryCode": self.rng.choice(COUNTRIES),
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
                "fundingTarget": _eur(2_000_000),
            },
            "pitch": {"painPoint": "Slow reporting", "differentiator": "Minutes to install", "team": "Engineers"},
        }
        name = self.call("POST", "/v1/companies", body, token)["name"]
        profile = {
            "criteria": [
                _criterion("INDUSTRY", industry),
                _criterion("COUNTRY", self.rng.choice(COUNTRIES)),
                _criterion("FUNDING_STAGE", self.rng.choice(STAGES)),
            ],
            "fundingNeed": {"lookingForFunding": True, "amount": _eur(1_000_000 * self.rng.randint(1, 4))},
        }
        self.call("PATCH", f"/v1/{name}/criteriaProfile", profile, token)
        return Page(name, subject, token)

    def investor(self, index: int, credits: int) -> Page:
        subject = f"inv{index}-{self.tag}"
        token = self.token(subject, "investor")
        body = {
            "displayName": f"Bench Ventures {index} {self.tag}",
            "category": "INVESTOR_CATEGORY_INSTITUTIONAL",
            "investorType": "INVESTOR_TYPE_VENTURE_CAPITAL",
        }
        name = self.call("POST", "/v1/investors", body, token)["name"]
        profile = {
            "criteria": [_criterion("FUNDING_STAGE", self.rng.choice(STAGES))],
            "ticketRange": {"min": _eur(500_000), "max": _eur(3_000_000)},
        }
        self.call("PATCH", f"/v1/{name}/criteriaProfile", profile, token)
        staff = self.token(f"staff-{self.tag}", "admin")
        grant = {"kind": "LEDGER_ENTRY_KIND_GRANT", "credits": str(credits), "description": "bench credits"}
        self.call("POST", f"/v1/{name}/ledgerEntries?requestId={uuid.uuid4().hex}", grant, staff)
        return Page(name, subject, token)

    def program(self, index: int) -> Page:
        subject = f"prog{index}-{self.tag}"
        token = self.token(subject, "program")
        body = {
            "displayName": f"Bench Partners {index} {self.tag}",
            "vendorName": "Contoso",
            "programType": "PROGRAM_TYPE_TECHNOLOGY",
        }
        name = self.call("POST", "/v1/programs", body, token)["name"]
        self.call("POST", f"/v1/{name}:publish", {}, token)
        profile = {"criteria": [_criterion("INDUSTRY", self.rng.choice(INDUSTRIES))]}
        self.call("PATCH", f"/v1/{name}/criteriaProfile", profile, token)
        return Page(name, subject, token)


def seed(base_url: str, keys: Any, issuer: str, companies: int, investors: int, programs: int) -> Seeded:
    seeder = Seeder(base_url, keys, issuer, uuid.uuid4().hex[:6])
    return Seeded(
        companies=[seeder.company(i) for i in range(companies)],
        investors=[seeder.investor(i, credits=10 * companies) for i in range(investors)],
        programs=[seeder.program(i) for i in range(programs)],
    )

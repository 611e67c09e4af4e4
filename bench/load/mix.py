"""The request mix: each operation in its REST form (through the edge) and its gRPC form (direct).

Weights (percent): the directory (GetCompany, ListCompanies) 40, ListCompanyMatches 20, GetMe 15,
ListPrograms 10, UpdateCompany 10, CreateUnlock 5. Every worker acts as one ISV (its own company, so
updates never race) and one investor (its own unlocks, so credits are never contended; a fresh investor
per phase, see `Mix`); reads pick any page.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bench.calls import Call, build_call
from bench.load.seed import Page, Seeded
from devinsider.billing.v1 import billing_pb2
from devinsider.company.v1 import company_pb2
from devinsider.matching.v1 import matching_pb2
from devinsider.program.v1 import program_pb2
from devinsider.user.v1 import user_pb2


@dataclass
class Persona:
    company: Page
    investor: Page


def get_company(p: Persona, s: Seeded, rng: random.Random) -> Call:
    name = rng.choice(s.companies).name
    return build_call(
        "GetCompany",
        ("GET", f"/v1/{name}", None),
        ("/devinsider.company.v1.CompanyService/GetCompany", company_pb2.GetCompanyRequest, {"name": name}),
        p.investor.token,  # an investor browsing: the company asks billing whether it unlocked the page
    )


def list_companies(p: Persona, s: Seeded, rng: random.Random) -> Call:
    return build_call(
        "ListCompanies",
        ("GET", "/v1/companies?pageSize=20", None),
        ("/devinsider.company.v1.CompanyService/ListCompanies", company_pb2.ListCompaniesRequest, {"pageSize": 20}),
        None,
    )


def list_matches(p: Persona, s: Seeded, rng: random.Random) -> Call:
    parent = p.company.name
    return build_call(
        "ListCompanyMatches",
        ("GET", f"/v1/{parent}/matches?targetKind=PAGE_KIND_INVESTOR&pageSize=20", None),
        (
            "/devinsider.matching.v1.MatchingService/ListCompanyMatches",
            matching_pb2.ListCompanyMatchesRequest,
            {"parent": parent, "targetKind": "PAGE_KIND_INVESTOR", "pageSize": 20},
        ),
        p.company.token,
    )


def get_me(p: Persona, s: Seeded, rng: random.Random) -> Call:
    return build_call(
        "GetMe",
        ("GET", "/v1/users/me", None),
        ("/devinsider.user.v1.UserService/GetMe", user_pb2.GetMeRequest, {}),
        p.company.token,
    )


def list_programs(p: Persona, s: Seeded, rng: random.Random) -> Call:
    return build_call(
        "ListPrograms",
        ("GET", "/v1/programs?pageSize=20", None),
        ("/devinsider.program.v1.ProgramService/ListPrograms", program_pb2.ListProgramsRequest, {"pageSize": 20}),
        None,
    )


def update_company(p: Persona, s: Seeded, rng: random.Random) -> Call:
    name = p.company.name
    description = f"Software for mid-sized companies, revision {rng.randrange(1_000_000)}."
    return build_call(
        "UpdateCompany",
        ("PATCH", f"/v1/{name}?updateMask=description", {"description": description}),
        (
            "/devinsider.company.v1.CompanyService/UpdateCompany",
            company_pb2.UpdateCompanyRequest,
            {"company": {"name": name, "description": description}, "updateMask": "description"},
        ),
        p.company.token,
    )


def create_unlock(p: Persona, s: Seeded, rng: random.Random) -> Call:
    parent, target = p.investor.name, rng.choice(s.companies).name
    request_id = uuid.uuid4().hex
    spend = {"target": {"kind": "PAGE_KIND_COMPANY", "name": target}}
    return build_call(
        "CreateUnlock",
        ("POST", f"/v1/{parent}/unlocks?requestId={request_id}", spend),
        (
            "/devinsider.billing.v1.BillingService/CreateUnlock",
            billing_pb2.CreateUnlockRequest,
            {"parent": parent, "unlock": spend, "requestId": request_id},
        ),
        p.investor.token,
    )


Builder = Callable[[Persona, Seeded, random.Random], Call]
MIX: list[tuple[Builder, int]] = [
    (get_company, 20),
    (list_companies, 20),
    (list_matches, 20),
    (get_me, 15),
    (list_programs, 10),
    (update_company, 10),
    (create_unlock, 5),
]


class Mix:
    """Draws calls with the MIX weights for one worker."""

    def __init__(self, seeded: Seeded, worker: int, seed: int = 0, investor_offset: int = 0) -> None:
        """`investor_offset`: where this phase's investors start, so that every phase unlocks from the same
        state (unlocks are idempotent per target: a phase after another would mostly repeat its unlocks)."""
        self.seeded = seeded
        investor = seeded.investors[(investor_offset + worker) % len(seeded.investors)]
        self.persona = Persona(seeded.companies[worker % len(seeded.companies)], investor)
        self.rng = random.Random(seed * 1000 + worker)
        self.builders = [b for b, _ in MIX]
        self.weights = [w for _, w in MIX]

    def next(self) -> Call:
        builder = self.rng.choices(self.builders, self.weights)[0]
        return builder(self.persona, self.seeded, self.rng)

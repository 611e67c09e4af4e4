"""Demo data (`make seed`): a small marketplace loaded through the REST edge, as a client would load it.

Companies with their ISV owners, investors and published partner programs, each with a criteria profile so
that matching has something to show, and a credit pack bought by every investor through billing's checkout
on the local payment provider (the buyer "pays" on the provider's page; the credits arrive with its signed
webhook). Tokens come from the dev issuer (the key pair `make run` creates), so this only works against a
dev run. Names are drawn from a seeded RNG: the same arguments give the same marketplace. A second run adds
nothing: each owner's page is looked up first (`callerIsMember`), creations carry a request id made from
the owner, and each investor's one checkout a request id of its page (bought while its balance is zero).

    .venv/bin/python scripts/seed.py [--edge http://127.0.0.1:8080] [--companies 30 --investors 15 --programs 10]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from devinsider_common.auth.dev_issuer import NoDevKeysError, issue_token, locate_dev_keys
from devinsider_common.settings import AuthSettings
from devinsider_gateway.testing.http import request

CREDIT_PACK = "plans/investor-credits-10"
RETURN_URL = "http://localhost:3000/billing/done"  # an origin billing accepts by default
# How long the credits of a paid checkout may take to arrive (the provider's webhook through the edge).
CREDITS_TIMEOUT_SECONDS = 20.0
# The edge's answers worth another try, with backoff (README: "Retry on 503 and 429").
RETRIED_STATUSES = {429, 503}
RETRIES = 5

# Codes of the matching taxonomy (services/matching migrations) the demo pages are drawn from.
INDUSTRIES = ["fintech", "retail", "manufacturing", "healthtech", "logistics", "energy"]
CATEGORIES = {
    "ai_ml": "AI",
    "data_analytics": "Analytics",
    "cybersecurity": "Security",
    "payments": "Payments",
    "iot": "IoT",
    "crm": "CRM",
}
COUNTRIES = ["FR", "DE", "GB", "ES", "NL", "IT"]
STAGES = ["seed", "series_a", "series_b"]
GIVEN = ["Alice", "Bruno", "Chloé", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Inès", "Jonas", "Karim", "Lena"]
FAMILY = ["Martin", "Bernard", "Dubois", "Schmidt", "Rossi", "García", "Novak", "Jansen", "Laurent", "Meyer"]
PREFIXES = ["Acme", "Blue", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Helix", "Iris", "Juniper", "Kite", "Lumen"]
SUFFIXES = ["Analytics", "Cloud", "Labs", "Systems", "Works", "Data", "Pay", "Logic", "Sense", "Flow"]
FUNDS = ["Northwind", "Alder", "Beacon", "Cedar", "Harbor", "Summit", "Meridian", "Orbit", "Pioneer", "Quarry"]
FUND_KINDS = ["Ventures", "Capital", "Partners", "Growth"]
VENDORS = ["Contoso", "Fabrikam", "Initech", "Globex", "Umbrella", "Stark", "Wayne", "Tyrell", "Soylent", "Hooli"]
PROGRAM_NAMES = ["Partner Network", "Alliance", "Connect"]
PROGRAM_TYPES = ["TECHNOLOGY", "RESELLER", "REFERRAL", "OEM", "MARKETPLACE"]


class SeedError(Exception):
    """The edge refused a step: the message names the call and carries the edge's answer."""


def eur(amount_minor: int) -> dict[str, str]:
    return {"currencyCode": "EUR", "amountMinor": str(amount_minor)}


@dataclass(frozen=True)
class Owner:
    subject: str
    role: str  # realm role: isv, investor, program
    given_name: str
    family_name: str

    @property
    def email(self) -> str:
        return f"{self.subject}@demo.devinsider.test"


@dataclass(frozen=True)
class PageSpec:
    """One page to have: its collection, owner, creation body, criteria profile change and publication."""

    collection: str  # companies, investors, programs
    owner: Owner
    body: dict[str, Any]
    profile: dict[str, Any]  # PATCH body of its criteriaProfile (`updateMask=criteria`)
    publish: bool = False

    @property
    def display_name(self) -> str:
        return str(self.body["displayName"])


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(GIVEN), rng.choice(FAMILY)


def _names(rng: random.Random, firsts: list[str], seconds: list[str], count: int) -> list[str]:
    """`count` distinct "first second" names (numbered once the combinations run out)."""
    pool = [f"{a} {b}" for a in firsts for b in seconds]
    rng.shuffle(pool)
    return [pool[i % len(pool)] + (f" {i // len(pool) + 1}" if i >= len(pool) else "") for i in range(count)]


def _draws(rng_seed: int, what: str) -> random.Random:
    """A stream of draws of its own for each page (and each kind's names), so that a page is the same whatever
    the counts asked (a run with more pages keeps the pages of a smaller one)."""
    return random.Random(f"{rng_seed}:{what}")


def plan(companies: int, investors: int, programs: int, rng_seed: int, prefix: str) -> list[PageSpec]:
    """The demo marketplace, the same for the same arguments. Page i of every kind works in industry
    i (mod 6), so the first company matches the first program (the demo user sees matches)."""
    specs: list[PageSpec] = []
    for i, name in enumerate(_names(_draws(rng_seed, "companies"), PREFIXES, SUFFIXES, companies)):
        subject, industry = f"{prefix}-isv-{i + 1:02d}", INDUSTRIES[i % len(INDUSTRIES)]
        rng = _draws(rng_seed, subject)
        owner = Owner(subject, "isv", *_person(rng))
        categories = sorted(rng.sample(sorted(CATEGORIES), 2))
        body = {
            "displayName": name,
            "tagline": f"{CATEGORIES[categories[0]]} for {industry}",
            "description": f"{name} builds software for {industry} teams across Europe.",
            "websiteUrl": f"https://{name.lower().replace(' ', '-')}.example",
            "hqCountryCode": COUNTRIES[i % len(COUNTRIES)],
            "foundingYear": rng.randint(2005, 2023),
            "companySize": rng.choice(["COMPANY_SIZE_1_10", "COMPANY_SIZE_11_50", "COMPANY_SIZE_51_200"]),
            "industries": sorted({industry, rng.choice(INDUSTRIES)}),
            "solutionCategories": categories,
            "targetRegions": ["europe"],
            "licensingModels": ["LICENSING_MODEL_SAAS"],
            "distributionChannels": ["DISTRIBUTION_CHANNEL_DIRECT"],
            "contact": {"email": f"hello@{subject}.example", "phoneNumber": "+33612345678"},
            "financials": {
                "revenueRange": rng.choice(["REVENUE_RANGE_UNDER_1M", "REVENUE_RANGE_1M_5M", "REVENUE_RANGE_5M_20M"]),
                "lookingForFunding": True,
                "fundingTarget": eur(rng.choice([500_000, 1_500_000, 3_000_000]) * 100),
            },
            "pitch": {"painPoint": "Slow decisions", "differentiator": "Live in a day", "team": "Ten engineers"},
        }
        profile = {"criteria": [{"dimension": "DIMENSION_FUNDING_STAGE", "codes": [rng.choice(STAGES)]}]}
        specs.append(PageSpec("companies", owner, body, profile))
    for i, name in enumerate(_names(_draws(rng_seed, "investors"), FUNDS, FUND_KINDS, investors)):
        subject = f"{prefix}-investor-{i + 1:02d}"
        rng = _draws(rng_seed, subject)
        owner = Owner(subject, "investor", *_person(rng))
        low = rng.choice([200_000, 1_000_000])
        body = {
            "displayName": name,
            "category": "INVESTOR_CATEGORY_INSTITUTIONAL",
            "investorType": rng.choice(["INVESTOR_TYPE_VENTURE_CAPITAL", "INVESTOR_TYPE_CORPORATE_VC"]),
            "fundingStages": sorted(rng.sample(STAGES, 2)),
            "ticketMin": eur(low * 100),
            "ticketMax": eur(low * 5 * 100),
        }
        specs.append(PageSpec("investors", owner, body, {}))  # matching follows what the page holds
    for i, name in enumerate(_names(_draws(rng_seed, "programs"), VENDORS, PROGRAM_NAMES, programs)):
        subject = f"{prefix}-program-{i + 1:02d}"
        rng = _draws(rng_seed, subject)
        owner = Owner(subject, "program", *_person(rng))
        body = {
            "displayName": name,
            "vendorName": name.split()[0],
            "programType": f"PROGRAM_TYPE_{rng.choice(PROGRAM_TYPES)}",
            "industries": sorted({INDUSTRIES[i % len(INDUSTRIES)], rng.choice(INDUSTRIES)}),
            "countryCodes": sorted({"FR", *rng.sample(COUNTRIES, 2)}),
        }
        specs.append(PageSpec("programs", owner, body, {}, publish=True))
    return specs


class Edge:
    """The REST edge, called as each page's owner with a dev token."""

    def __init__(self, url: str, issue: Callable[[Owner], str]) -> None:
        self.url = url.rstrip("/")
        self._issue = issue
        self._tokens: dict[str, str] = {}

    def token(self, owner: Owner) -> str:
        if owner.subject not in self._tokens:
            self._tokens[owner.subject] = self._issue(owner)
        return self._tokens[owner.subject]

    def call(self, owner: Owner, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token(owner)}"}
        if body is None and method in {"POST", "PATCH"}:
            body = {}
        for attempt in range(RETRIES + 1):
            try:
                response = request(method, self.url + path, body, headers)
            except OSError as error:
                raise SeedError(f"no edge at {self.url} ({error}): start the suite first (`make run`)") from error
            # Every call here may be repeated (reads, same-value patches, creations with a request id).
            if response.status not in RETRIED_STATUSES or attempt == RETRIES:
                break
            time.sleep(0.25 * 2**attempt)
        if response.status != 200:
            raise SeedError(f"{method} {path} -> {response.status} {response.body.decode(errors='replace')}")
        return dict(response.json())


@dataclass
class Summary:
    pages: dict[str, list[str]]  # collection -> page names, in plan order
    created: dict[str, int]  # collection -> pages this run created
    credits_bought: int  # credits this run bought
    demo: Owner  # the user to log in as
    demo_page: str

    def lines(self, edge: Edge) -> list[str]:
        counts = ", ".join(f"{c} {len(n)} ({self.created[c]} new)" for c, n in self.pages.items())
        demo = self.demo
        return [
            f"seeded {edge.url}: {counts}; credits bought {self.credits_bought}",
            f"log in as {demo.given_name} {demo.family_name} ({demo.subject}, owner of {self.demo_page}):",
            f"TOKEN={edge.token(demo)}",
            f"(a fresh one: .venv/bin/devinsider-dev-token --sub {demo.subject} --role {demo.role} "
            f'--email {demo.email} --name "{demo.given_name} {demo.family_name}")',
        ]


def ensure_page(edge: Edge, spec: PageSpec) -> tuple[str, bool]:
    """The owner's page (name, created now): looked up first, else created with a request id of its own."""
    owner, collection = spec.owner, spec.collection
    edge.call(owner, "GET", "/v1/users/me")  # the owner's profile, as signing in makes it
    states = "&states=PROGRAM_STATE_DRAFT&states=PROGRAM_STATE_PUBLISHED" if collection == "programs" else ""
    mine = edge.call(owner, "GET", f"/v1/{collection}?callerIsMember=true{states}").get(collection, [])
    created = not mine
    page = mine[0] if mine else edge.call(owner, "POST", f"/v1/{collection}?requestId=seed-{owner.subject}", spec.body)
    name = str(page["name"])
    if spec.publish and page.get("state") != "PROGRAM_STATE_PUBLISHED":
        edge.call(owner, "POST", f"/v1/{name}:publish")
    edge.call(owner, "PATCH", f"/v1/{name}/criteriaProfile?updateMask=criteria", spec.profile)
    return name, created


def balance(edge: Edge, owner: Owner, page: str) -> int:
    return int(edge.call(owner, "GET", f"/v1/{page}/creditBalance").get("balance", "0"))


def ensure_credits(edge: Edge, owner: Owner, page: str) -> int:
    """Credits bought now: a pack through checkout and the local provider's payment page, unless the page
    holds credits already."""
    if balance(edge, owner, page) > 0:
        return 0
    body = {"plan": CREDIT_PACK, "successUrl": RETURN_URL, "cancelUrl": RETURN_URL}
    checkout = edge.call(owner, "POST", f"/v1/{page}/checkouts?requestId=seed-{quote(page, safe='')}", body)
    if checkout.get("state") != "CHECKOUT_STATE_OPEN":
        return 0  # an earlier run's checkout (the same request id), its credits spent since: one pack a page
    paid = request("POST", checkout["checkoutUrl"], {"action": "pay"})  # the buyer, on the provider's page
    if paid.status != 200:
        raise SeedError(f"paying {checkout['checkoutUrl']} -> {paid.status} {paid.body!r}")
    deadline = time.monotonic() + CREDITS_TIMEOUT_SECONDS
    while (credits := balance(edge, owner, page)) == 0:
        if time.monotonic() > deadline:
            raise SeedError(f"{checkout['name']} paid but no credits arrived (the provider's webhook)")
        time.sleep(0.2)
    return credits


def seed(edge: Edge, specs: list[PageSpec]) -> Summary:
    pages: dict[str, list[str]] = {"companies": [], "investors": [], "programs": []}
    created = dict.fromkeys(pages, 0)
    credits = 0
    for spec in specs:
        name, new = ensure_page(edge, spec)
        pages[spec.collection].append(name)
        created[spec.collection] += new
        if spec.collection == "investors":
            credits += ensure_credits(edge, spec.owner, name)
    demo = next(spec for spec in specs if spec.collection == "companies")
    return Summary(pages, created, credits, demo.owner, pages["companies"][0])


def run(argv: list[str] | None = None) -> Summary:
    auth = AuthSettings()
    parser = argparse.ArgumentParser(prog="seed", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--edge", default="http://127.0.0.1:8080", help="the REST edge (`make run`'s)")
    parser.add_argument("--companies", type=int, default=30)
    parser.add_argument("--investors", type=int, default=15)
    parser.add_argument("--programs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026, help="the RNG seed of the names and profiles")
    parser.add_argument("--prefix", default="demo", help="subjects are <prefix>-isv-01, <prefix>-investor-01...")
    parser.add_argument("--issuer", default=auth.issuer, help="the dev issuer the suite trusts (AUTH_ISSUER)")
    parser.add_argument("--key-dir", type=Path, default=auth.dev_key_dir, help="its key pair (AUTH_DEV_KEY_DIR)")
    args = parser.parse_args(argv)
    if min(args.companies, args.investors, args.programs) < 1:
        parser.error("--companies, --investors and --programs must be at least 1")
    try:
        key_dir = locate_dev_keys(args.key_dir)
    except NoDevKeysError as error:
        parser.error(str(error))

    def issue(owner: Owner) -> str:
        return issue_token(
            key_dir,
            args.issuer,
            owner.subject,
            roles=[owner.role],
            email=owner.email,
            given_name=owner.given_name,
            family_name=owner.family_name,
        )

    edge = Edge(args.edge, issue)
    summary = seed(edge, plan(args.companies, args.investors, args.programs, args.seed, args.prefix))
    print("\n".join(summary.lines(edge)))
    return summary


def main() -> int:
    try:
        run()
    except SeedError as error:
        print(f"seed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

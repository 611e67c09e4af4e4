"""`make seed` (scripts/seed.py) against the real suite: the demo marketplace is there through the API, and a
second run adds nothing."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .suite_stack import EVENTUALLY_SECONDS, ISSUER, SuiteStack

SEED = Path(__file__).resolve().parents[2] / "scripts" / "seed.py"
EMAIL = "{}@demo.devinsider.test"  # the seed's owners' addresses


def run_seed(stack: SuiteStack) -> tuple[str, str]:
    """(summary line, demo token) of one run with 3 companies, 2 investors and 2 programs."""
    counts = ["--companies", "3", "--investors", "2", "--programs", "2"]
    result = subprocess.run(
        [sys.executable, str(SEED), "--edge", stack.url(""), *counts, "--issuer", ISSUER, "--key-dir", str(stack.keys)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    token = next(line.removeprefix("TOKEN=") for line in lines if line.startswith("TOKEN="))
    return lines[0], token


def listed(stack: SuiteStack, token: str, collection: str) -> list[str]:
    response = stack.call("GET", f"/v1/{collection}?pageSize=200", token=token)
    assert response.status == 200, response.body
    return sorted(page["displayName"] for page in response.json().get(collection, []))


def ok(stack: SuiteStack, path: str, token: str) -> dict[str, Any]:
    response = stack.call("GET", path, token=token)
    assert response.status == 200, response.body
    return dict(response.json())


def program_matches(stack: SuiteStack, company: str, token: str) -> list[dict[str, Any]]:
    """The demo company's program matches, once matching learned the published programs (events)."""
    deadline = time.monotonic() + EVENTUALLY_SECONDS
    while True:
        found = ok(stack, f"/v1/{company}/matches?targetKind=PAGE_KIND_PROGRAM", token).get("matches", [])
        if found or time.monotonic() > deadline:
            return list(found)
        time.sleep(0.2)


def test_the_seed_loads_a_demo_marketplace_once(suite_stack: SuiteStack) -> None:
    summary, demo = run_seed(suite_stack)
    assert summary.endswith("companies 3 (3 new), investors 2 (2 new), programs 2 (2 new); credits bought 20"), summary

    me = ok(suite_stack, "/v1/users/me", demo)
    assert (me["subject"], me["email"]) == ("demo-isv-01", EMAIL.format("demo-isv-01"))
    directory = {c: listed(suite_stack, demo, c) for c in ("companies", "investors", "programs")}
    assert [len(names) for names in directory.values()] == [3, 2, 2], directory  # programs: published ones
    (company,) = ok(suite_stack, "/v1/companies?callerIsMember=true", demo)["companies"]
    assert company["viewerRole"] == "PAGE_ROLE_OWNER" and company["completeness"]["programMatchmaking"] is True
    profile = ok(suite_stack, f"/v1/{company['name']}/criteriaProfile", demo)
    assert "DIMENSION_FUNDING_STAGE" in [c["dimension"] for c in profile["criteria"]], profile
    matches = program_matches(suite_stack, company["name"], demo)
    assert matches and all(m["summary"]["page"]["name"].startswith("programs/") for m in matches), matches

    investors = {}
    for subject in ("demo-investor-01", "demo-investor-02"):
        token = suite_stack.token(subject, roles=("investor",), email=EMAIL.format(subject))
        (page,) = ok(suite_stack, "/v1/investors?callerIsMember=true", token)["investors"]
        assert ok(suite_stack, f"/v1/{page['name']}/creditBalance", token)["balance"] == "10"
        investors[page["name"]] = token

    # Again: the same demo user, the same pages, no second credit pack.
    summary, demo = run_seed(suite_stack)
    assert summary.endswith("companies 3 (0 new), investors 2 (0 new), programs 2 (0 new); credits bought 0"), summary
    assert {c: listed(suite_stack, demo, c) for c in directory} == directory
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", demo)  # a JWT
    for page, token in investors.items():
        ledger = ok(suite_stack, f"/v1/{page}/ledgerEntries", token)["ledgerEntries"]
        assert [(e["kind"], e["credits"]) for e in ledger] == [("LEDGER_ENTRY_KIND_GRANT", "10")], ledger

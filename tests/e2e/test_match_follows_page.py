"""Matching follows the pages (issue 13), through Envoy to the six services on real PostgreSQL, Redis and
RabbitMQ: the page is the source of truth of what it holds. A company's industries are its page's, so
editing the page (REST `PATCH` on the company service) changes its score with a program once the company
service's event has reached matching (`matching.pages`), without any profile update, and the program's
match list shows the page's new name (the event drops matching's cached summary); the profile says
which dimensions come from the page and refuses codes on them, naming the page field to edit.
"""

from __future__ import annotations

import uuid

from devinsider_common.testing.polling import wait_for

from .journeys import complete_company, criterion, matches, ok, published_program
from .suite_stack import EVENTUALLY_SECONDS, SuiteStack, create_company, field_violations, status_of, unique


def test_editing_the_company_page_changes_its_score_with_no_profile_update(suite_stack: SuiteStack) -> None:
    stack = suite_stack
    program = published_program(stack)  # its page wants fintech companies in France
    owner = stack.token(unique("isv-follow"))
    page = complete_company(f"Follow Works {uuid.uuid4().hex[:6]}", "hq@follow.example")
    company = create_company(stack, owner, **page)["name"]  # a manufacturing company in France
    profile_path = f"/v1/{company}/criteriaProfile"

    # The profile holds what the page does not (the stage it raises); the page's dimensions are listed.
    profile = ok(stack.call("PATCH", profile_path, {"criteria": [criterion("FUNDING_STAGE", "seed")]}, owner))
    updated = profile["updateTime"]
    assert {"DIMENSION_INDUSTRY", "DIMENSION_COUNTRY", "DIMENSION_COMPANY_SIZE"} <= set(profile["pageDimensions"])
    assert "DIMENSION_FUNDING_STAGE" not in profile["pageDimensions"]
    codes = {c["dimension"]: c.get("codes", []) for c in profile["criteria"]}
    assert (codes["DIMENSION_INDUSTRY"], codes["DIMENSION_FUNDING_STAGE"]) == (["manufacturing"], ["seed"])

    def score() -> float:
        scored = ok(stack.call("POST", f"/v1/{company}:scoreMatch", {"target": program.name}, owner))
        return float(scored["score"])

    before = score()
    assert before == 40.0  # industry (weight 3 of 5) missed, country (2 of 5) met
    assert matches(stack, company, "PROGRAM", owner)[program.name] == before

    # Industries are set on the page, not in the profile: refused, naming the page field.
    refused = stack.call("PATCH", profile_path, {"criteria": [criterion("INDUSTRY", "fintech")]}, owner)
    assert status_of(refused)[:2] == (400, 3), refused.body
    assert field_violations(refused) == ["criteria_profile.criteria[industry].codes"]
    assert f"is taken from {company} (industries): edit the page" in refused.body.decode()

    def shown() -> dict[str, tuple[str, float]]:
        """The program's matches: company -> (the summary's display name, score)."""
        listed = ok(stack.call("GET", f"/v1/{program.name}/matches", token=program.owner)).get("matches", [])
        return {m["summary"]["page"]["name"]: (m["summary"]["displayName"], m["score"]) for m in listed}

    assert shown()[company] == (page["displayName"], before)  # its summary is now in matching's cache

    # The page edited through the company service; matching learns it from the page's event alone.
    renamed = f"{page['displayName']} Fintech"
    edited = ok(stack.call("PATCH", f"/v1/{company}", {"industries": ["fintech"], "displayName": renamed}, owner))
    assert edited["industries"] == ["fintech"]
    assert wait_for(
        lambda: matches(stack, company, "PROGRAM", owner).get(program.name) == 100.0,
        timeout=EVENTUALLY_SECONDS,
        every=0.2,
    ), matches(stack, company, "PROGRAM", owner)
    after = score()
    assert after == 100.0 and after != before
    # The event also dropped the cached summary (60 s TTL, far beyond the wait): the new name is listed.
    assert wait_for(lambda: shown().get(company) == (renamed, 100.0), timeout=EVENTUALLY_SECONDS, every=0.2), shown()

    # The profile shows the page's industries; the profile itself was not written since.
    profile = ok(stack.call("GET", profile_path, token=owner))
    codes = {c["dimension"]: c.get("codes", []) for c in profile["criteria"]}
    assert (codes["DIMENSION_INDUSTRY"], codes["DIMENSION_FUNDING_STAGE"]) == (["fintech"], ["seed"])
    assert "DIMENSION_INDUSTRY" in profile["pageDimensions"] and profile["updateTime"] == updated

"""Updates as a web client makes them, through Envoy to the real services (issue 17).

A `PATCH` without `updateMask` changes only the fields its body carries (AIP-134), `updateMask=*`
replaces the resource; country and industry codes must exist; completeness names fields as the JSON
does; scores carry no float noise.
"""

from __future__ import annotations

import uuid
from typing import Any

from .journeys import complete_company, criterion, ok
from .suite_stack import SuiteStack, create_company, field_violations, status_of, unique

# What `complete_company` sets beyond the display name, and that a PATCH of something else must keep.
KEPT = ("description", "websiteUrl", "hqCountryCode", "industries", "contact", "financials", "pitch")


def _page(stack: SuiteStack) -> tuple[str, str, dict[str, Any]]:
    """(name, owner token, full view) of a page complete for matchmaking."""
    owner = stack.token(unique("isv-upd"))
    created = create_company(stack, owner, **complete_company(f"Acme {uuid.uuid4().hex[:6]}", "hq@acme.example"))
    return created["name"], owner, created


def test_patching_a_company_without_a_mask_changes_only_what_the_body_carries(suite_stack: SuiteStack) -> None:
    name, owner, before = _page(suite_stack)

    for query in ("", "?updateMask="):  # no mask, and an empty one
        tagline = f"BI for SMBs {query or 'none'}"
        updated = ok(suite_stack.call("PATCH", f"/v1/{name}{query}", {"tagline": tagline}, owner))
        assert updated["tagline"] == tagline
        assert {f: updated.get(f) for f in KEPT} == {f: before[f] for f in KEPT}, query

    # A nested field alone: the rest of the contact stays.
    phone = ok(suite_stack.call("PATCH", f"/v1/{name}", {"contact": {"phoneNumber": "+33699999999"}}, owner))
    assert phone["contact"] == {"email": "hq@acme.example", "phoneNumber": "+33699999999"}

    # Nothing to update is refused rather than answered 200 with nothing done.
    empty = suite_stack.call("PATCH", f"/v1/{name}", {}, owner)
    assert status_of(empty)[:2] == (400, 3) and field_violations(empty) == ["update_mask"], empty.body

    # `*` is a full replacement: what the body leaves out is cleared.
    replaced = ok(suite_stack.call("PATCH", f"/v1/{name}?updateMask=*", {"displayName": "Only Name"}, owner))
    assert replaced["displayName"] == "Only Name"
    assert not {"tagline", "description", "websiteUrl", "hqCountryCode", "industries"} & replaced.keys()
    assert (replaced["contact"], replaced["financials"], replaced["pitch"]) == ({}, {}, {}), replaced
    # Completeness names the missing fields as clients write them.
    missing = replaced["completeness"]
    assert {"hqCountryCode", "websiteUrl", "industries"} <= set(missing["programMissingFields"])
    assert {"financials.fundingTarget", "pitch.painPoint"} <= set(missing["investorMissingFields"])
    assert not [f for f in missing["investorMissingFields"] if "_" in f], missing


def test_patching_my_profile_without_a_mask_keeps_the_names_and_biography(suite_stack: SuiteStack) -> None:
    token = suite_stack.token(unique("ada"))
    first = ok(suite_stack.call("PATCH", "/v1/users/me", {"biography": "Builds ERPs", "jobTitle": "CTO"}, token))
    assert (first["givenName"], first["familyName"], first["biography"]) == ("Ada", "Tester", "Builds ERPs")

    updated = ok(suite_stack.call("PATCH", "/v1/users/me", {"jobTitle": "CEO"}, token))
    assert (updated["givenName"], updated["familyName"], updated["biography"], updated["jobTitle"]) == (
        "Ada",
        "Tester",
        "Builds ERPs",
        "CEO",
    )

    replaced = ok(suite_stack.call("PATCH", "/v1/users/me?updateMask=*", {"givenName": "Grace"}, token))
    assert replaced["givenName"] == "Grace"
    assert not {"familyName", "biography", "jobTitle"} & replaced.keys(), replaced


def test_company_pages_refuse_unknown_countries_and_industries(suite_stack: SuiteStack) -> None:
    name, owner, _ = _page(suite_stack)
    bad = {"hqCountryCode": "ZZ", "targetCountryCodes": ["FR", "XK"], "industries": ["fintech", "spacetech"]}
    refused = suite_stack.call("PATCH", f"/v1/{name}", bad, owner)
    assert status_of(refused)[:2] == (400, 3), refused.body
    assert sorted(field_violations(refused)) == [
        "company.hq_country_code",
        "company.industries[1]",
        "company.target_country_codes[1]",
    ]
    assert "`spacetech` is not an industry" in refused.body.decode()

    # Every industry the taxonomy serves is accepted.
    taxonomy = ok(suite_stack.call("GET", "/v1/taxonomy"))
    (dimension,) = [d for d in taxonomy["dimensions"] if d["dimension"] == "DIMENSION_INDUSTRY"]
    industries = [c["code"] for c in dimension["criteria"]]
    accepted = ok(suite_stack.call("PATCH", f"/v1/{name}", {"industries": industries, "hqCountryCode": "DE"}, owner))
    assert (accepted["industries"], accepted["hqCountryCode"]) == (industries, "DE")


def test_scores_are_shown_without_float_noise(suite_stack: SuiteStack) -> None:
    # Program weights 3 (industry) + 2 (country) + 2 (partner type): 100 x (3/7 + 2/7 + 2/7) is
    # 99.99999999999999 in floats. Industries and countries are the pages', partner types the profiles'.
    wanted = {"criteria": [criterion("PARTNER_TYPE", "reseller")]}
    admin = suite_stack.token(unique("prog-noise"), roles=("program",))
    body: dict[str, Any] = {"displayName": f"Resellers {uuid.uuid4().hex[:6]}", "vendorName": "Contoso"}
    body |= {"programType": "PROGRAM_TYPE_RESELLER", "industries": ["fintech"], "countryCodes": ["FR"]}
    program = ok(suite_stack.call("POST", "/v1/programs", body, admin))
    ok(suite_stack.call("POST", f"/v1/{program['name']}:publish", {}, admin))
    ok(suite_stack.call("PATCH", f"/v1/{program['name']}/criteriaProfile", wanted, admin))
    company, owner, _ = _page(suite_stack)  # in France
    ok(suite_stack.call("PATCH", f"/v1/{company}", {"industries": ["fintech"]}, owner))
    ok(suite_stack.call("PATCH", f"/v1/{company}/criteriaProfile", wanted, owner))

    scored = ok(suite_stack.call("POST", f"/v1/{company}:scoreMatch", {"target": program["name"]}, owner))
    assert scored["eligible"] is True and scored["score"] == 100, scored
    assert sorted(d["contribution"] for d in scored["dimensions"]) == [28.57, 28.57, 42.86]
    listed = ok(suite_stack.call("GET", f"/v1/{program['name']}/matches?minScore=100", token=admin))
    assert [(m["summary"]["page"]["name"], m["score"]) for m in listed["matches"]] == [(company, 100)], listed


def test_the_api_reference_tells_clients_how_a_missing_mask_is_read(suite_stack: SuiteStack) -> None:
    document = ok(suite_stack.call("GET", "/openapi.json"))
    parameters = document["paths"]["/v1/users/me"]["patch"]["parameters"]
    (mask,) = [p for p in parameters if p["name"] == "updateMask"]
    assert "Without a mask" in mask["description"] and "`*`" in mask["description"], mask

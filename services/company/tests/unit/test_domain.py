"""Company domain rules, without I/O: validation, masks, completeness, claims, logos, directory."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from company_service.adapters.proto_mapping import company_to_proto
from company_service.domain.claims import (
    approve_claim,
    email_matches_website,
    reject_claim,
    request_claim,
    website_domain,
)
from company_service.domain.content import (
    UPDATABLE_FIELDS,
    CompanyContent,
    CompanySize,
    Contact,
    DistributionChannel,
    Financials,
    LicensingModel,
    Money,
    Pitch,
    expand_paths,
)
from company_service.domain.directory import PUBLIC_STATES, check_states, normalise_order
from company_service.domain.logo import JPEG, PNG, SVG, WEBP, check_logo, sniff
from company_service.domain.model import Claim, Company, CompanyState
from company_service.domain.rules import completeness, edit, validate
from devinsider_common import errors

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ALL = frozenset(expand_paths(frozenset(UPDATABLE_FIELDS)))


def _violations(content: CompanyContent, leaves: frozenset[str] = ALL) -> set[str]:
    with pytest.raises(errors.InvalidArgument) as raised:
        validate(content, leaves, NOW.date())
    return {v.field for v in raised.value.violations}


def test_expand_paths_turns_a_nested_message_into_its_leaves() -> None:
    assert expand_paths(frozenset({"contact", "display_name"})) == {
        "display_name",
        "contact.email",
        "contact.phone_number",
        "contact.postal_address",
        "contact.contact_name",
        "contact.linkedin_url",
    }
    assert "financials.funding_target" in ALL and "pitch.published" in ALL


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (CompanyContent(display_name=" "), "company.display_name"),
        (CompanyContent(display_name="x" * 121), "company.display_name"),
        (CompanyContent(display_name="A", description="x" * 5001), "company.description"),
        (CompanyContent(display_name="A", website_url="acme.io"), "company.website_url"),
        (CompanyContent(display_name="A", hq_country_code="France"), "company.hq_country_code"),
        (CompanyContent(display_name="A", founding_year=1799), "company.founding_year"),
        (CompanyContent(display_name="A", founding_year=2027), "company.founding_year"),
        (CompanyContent(display_name="A", industries=("fintech", "fintech")), "company.industries"),
        (CompanyContent(display_name="A", hq_country_code="ZZ"), "company.hq_country_code"),  # user-assigned
        (CompanyContent(display_name="A", target_country_codes=("FR", "XK")), "company.target_country_codes[1]"),
        (CompanyContent(display_name="A", industries=("fintech", "spacetech")), "company.industries[1]"),
        (CompanyContent(display_name="A", solution_categories=("BAD CODE",)), "company.solution_categories[0]"),
        (CompanyContent(display_name="A", licensing_models=(LicensingModel.SAAS,) * 2), "company.licensing_models"),
        (CompanyContent(display_name="A", technology_partners=("",)), "company.technology_partners[0]"),
        (CompanyContent(display_name="A", contact=Contact(linkedin_url="nope")), "company.contact.linkedin_url"),
        (
            CompanyContent(display_name="A", financials=Financials(last_funding_date=date(2027, 1, 1))),
            "company.financials.last_funding_date",
        ),
        (
            CompanyContent(display_name="A", financials=Financials(total_raised=Money("EU", 5))),
            "company.financials.total_raised.currency_code",
        ),
        (CompanyContent(display_name="A", pitch=Pitch(team="x" * 2001)), "company.pitch.team"),
    ],
)
def test_each_bad_field_is_named(content: CompanyContent, field: str) -> None:
    assert field in _violations(content)


def test_country_and_industry_codes_must_exist_and_say_so() -> None:
    content = CompanyContent(display_name="A", hq_country_code="ZZ", industries=("fintech", "spacetech"))
    with pytest.raises(errors.InvalidArgument) as raised:
        validate(content, ALL, NOW.date())
    found = {v.field: v.description for v in raised.value.violations}
    assert found.keys() == {"company.hq_country_code", "company.industries[1]"}
    assert "ISO 3166-1" in found["company.hq_country_code"] and "`ZZ`" in found["company.hq_country_code"]
    assert "`spacetech`" in found["company.industries[1]"] and "taxonomy" in found["company.industries[1]"]
    real = CompanyContent(display_name="A", hq_country_code="DE", industries=("healthtech", "public_sector"))
    validate(real, ALL, NOW.date())


def test_only_the_masked_fields_are_validated_and_changed() -> None:
    company = Company("c1", CompanyContent(display_name="Acme", tagline="old"), created_at=NOW, updated_at=NOW)
    changes = CompanyContent(display_name="", tagline="new", founding_year=1)
    updated, changed = edit(company, changes, frozenset({"tagline"}), NOW)
    assert (updated.content.display_name, updated.content.tagline, changed) == ("Acme", "new", ["tagline"])
    same, nothing = edit(updated, changes, frozenset({"tagline"}), NOW)
    assert same is updated and nothing == []
    with pytest.raises(errors.InvalidArgument):
        edit(company, changes, frozenset({"display_name"}), NOW)


def _complete() -> CompanyContent:
    return CompanyContent(
        display_name="Acme",
        description="Analytics",
        website_url="https://acme.io",
        hq_country_code="FR",
        founding_year=2015,
        company_size=CompanySize.S_11_50,
        industries=("manufacturing",),
        solution_categories=("analytics",),
        target_country_codes=("FR",),
        licensing_models=(LicensingModel.SAAS,),
        distribution_channels=(DistributionChannel.DIRECT,),
        financials=Financials(looking_for_funding=True, funding_target=Money("EUR", 100)),
        pitch=Pitch(pain_point="p", differentiator="d", team="t"),
    )


def test_completeness_for_program_and_investor_matchmaking() -> None:
    done = completeness(_complete())
    assert done.program_ready and not done.investor_ready
    assert done.investor_missing == ("financials.revenue_range",)
    empty = completeness(CompanyContent(display_name="Acme"))
    assert not empty.program_ready and "industries" in empty.program_missing
    assert "target_regions" in empty.program_missing  # no region and no country
    no_funding = completeness(CompanyContent(**{**_complete().__dict__, "financials": Financials()}))
    assert {"financials.looking_for_funding", "financials.funding_target"} <= set(no_funding.investor_missing)


def test_missing_fields_reach_clients_by_their_json_names() -> None:
    page = Company("c1", CompanyContent(**{**_complete().__dict__, "hq_country_code": "", "financials": Financials()}))
    shown = company_to_proto(page, full=True).completeness
    assert list(shown.program_missing_fields) == ["hqCountryCode"]
    assert {"financials.lookingForFunding", "financials.fundingTarget", "financials.revenueRange"} <= set(
        shown.investor_missing_fields
    )
    assert not [f for f in shown.investor_missing_fields if "_" in f]


@pytest.mark.parametrize(
    ("email", "verified", "website", "matches"),
    [
        ("alice@acme.io", True, "https://www.acme.io/about", True),
        ("alice@eu.acme.io", True, "https://acme.io", True),
        ("alice@acme.io", False, "https://acme.io", False),
        ("alice@notacme.io", True, "https://acme.io", False),
        ("alice@acme.io.evil.com", True, "https://acme.io", False),
        ("alice@gmail.com", True, "", False),
        ("alice@localhost", True, "https://localhost", False),
    ],
)
def test_claims_are_approved_at_once_only_on_a_verified_matching_domain(
    email: str, verified: bool, website: str, matches: bool
) -> None:
    assert email_matches_website(email, verified, website) is matches


def test_claim_transitions() -> None:
    page = Company("c1", CompanyContent(display_name="Acme"), CompanyState.PRE_LISTED)
    claim = Claim("kc-alice", email="alice@acme.io")
    pending = request_claim(page, claim, auto_approve=False, now=NOW)
    assert (pending.state, pending.founder) == (CompanyState.CLAIM_PENDING, "kc-alice")
    assert request_claim(page, claim, auto_approve=True, now=NOW).state is CompanyState.ACTIVE
    assert approve_claim(pending, NOW).state is CompanyState.ACTIVE
    back = reject_claim(pending, NOW)
    assert (back.state, back.claim, back.founder) == (CompanyState.PRE_LISTED, None, "")
    with pytest.raises(errors.FailedPrecondition):
        request_claim(pending, claim, False, NOW)
    with pytest.raises(errors.FailedPrecondition):
        approve_claim(page, NOW)
    assert website_domain("https://WWW.Acme.io.") == "acme.io"


def test_a_page_is_deleted_once() -> None:
    page = Company("c1", CompanyContent(display_name="Acme"), founder="kc-alice")
    deleted = page.deleted(NOW)
    assert (deleted.state, deleted.deleted_at, deleted.updated_at, deleted.founder) == (
        CompanyState.DELETED,
        NOW,
        NOW,
        "",
    )
    with pytest.raises(errors.NotFound):
        deleted.deleted(NOW)


def test_logos_are_sniffed_by_magic_bytes() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\nxxxx") == PNG
    assert sniff(b"\xff\xd8\xff\xdb") == JPEG
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == WEBP
    assert sniff(b'\xef\xbb\xbf  <svg xmlns="http://www.w3.org/2000/svg"/>') == SVG
    assert sniff(b"<html><svg></svg></html>") is None
    assert check_logo("IMAGE/PNG; q=1", b"\x89PNG\r\n\x1a\nxx", 100) == PNG
    with pytest.raises(errors.InvalidArgument) as raised:
        check_logo("image/svg+xml", b'<svg onload="x()"></svg>', 100)
    assert [v.field for v in raised.value.violations] == ["body.data"]


def test_directory_states_and_orders() -> None:
    assert check_states((), staff=False) == PUBLIC_STATES
    with pytest.raises(errors.PermissionDenied):
        check_states((CompanyState.DELETED,), staff=False)
    assert check_states((CompanyState.DELETED, CompanyState.DELETED), staff=True) == (CompanyState.DELETED,)
    assert normalise_order(" Create_Time   DESC ") == "create_time desc"
    assert normalise_order("display_name asc") == "display_name"
    with pytest.raises(errors.InvalidArgument):
        normalise_order("name")

"""The servicer's mapping, in-process on the in-memory app (tests/inprocess.py): requests to use-case
arguments (names, masks, enums, dates, filters) and pages to responses (public and full views)."""

from __future__ import annotations

import grpc
from google.api import httpbody_pb2
from google.protobuf import field_mask_pb2
from google.type import date_pb2

from devinsider.common.v1 import money_pb2, page_pb2
from devinsider.company.v1 import company_pb2 as c
from devinsider_common.auth.principal import Principal
from devinsider_common.testing.failures import Failure, failure

from ..fakes import SERVICE, STAFF, mailed_token, person, unit_settings, world
from ..inprocess import Rpcs

ALICE = person("kc-alice")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def full_company() -> c.Company:
    return c.Company(
        display_name=" Acme Analytics ",
        legal_name="Acme Analytics SAS",
        tagline="Dashboards for plants",
        description="We build analytics for factories.",
        website_url="https://www.acme.io",
        hq_country_code="FR",
        founding_year=2015,
        company_size=c.COMPANY_SIZE_11_50,
        industries=["manufacturing"],
        solution_categories=["analytics"],
        target_regions=["europe"],
        target_country_codes=["FR", "DE"],
        licensing_models=[c.LICENSING_MODEL_SAAS],
        distribution_channels=[c.DISTRIBUTION_CHANNEL_DIRECT],
        technology_partners=["Microsoft Azure"],
        contact=c.CompanyContact(email=" HQ@Acme.io ", phone_number="+33612345678"),
        financials=c.CompanyFinancials(
            revenue_range=c.REVENUE_RANGE_1M_5M,
            looking_for_funding=True,
            funding_target=money_pb2.Money(currency_code="eur", amount_minor=500_000_00),
            funding_rounds=[
                c.FundingRound(
                    stage="seed",
                    amount=money_pb2.Money(currency_code="EUR", amount_minor=100_000_00),
                    close_date=date_pb2.Date(year=2020, month=3, day=1),
                )
            ],
            last_funding_date=date_pb2.Date(year=2021, month=6, day=30),
        ),
        pitch=c.CompanyPitch(pain_point="Blind plants", differentiator="Fast", team="Ten engineers"),
    )


def test_create_maps_every_field_both_ways_and_members_see_everything() -> None:
    rpcs = Rpcs(world())
    created = rpcs.call("CreateCompany", c.CreateCompanyRequest(company=full_company(), request_id=" r-1 "), ALICE)
    assert created.name.startswith("companies/") and created.display_name == "Acme Analytics"
    assert created.state == c.COMPANY_STATE_ACTIVE and created.HasField("create_time")
    assert created.viewer_role == page_pb2.PAGE_ROLE_OWNER and created.viewer_has_full_access
    assert created.contact.email == "hq@acme.io"
    assert created.financials.funding_target == money_pb2.Money(currency_code="EUR", amount_minor=500_000_00)
    assert created.financials.funding_rounds[0].close_date == date_pb2.Date(year=2020, month=3, day=1)
    assert created.financials.last_funding_date.day == 30
    assert created.completeness.program_matchmaking and created.completeness.investor_matchmaking
    assert list(created.licensing_models) == [c.LICENSING_MODEL_SAAS] and created.logo_url == ""
    again = rpcs.call("CreateCompany", c.CreateCompanyRequest(company=full_company(), request_id="r-1"), ALICE)
    assert again == created
    too_long = c.CreateCompanyRequest(company=full_company(), request_id="x" * 129)
    assert failure(lambda: rpcs.call("CreateCompany", too_long, ALICE)).fields == ["request_id"]


def test_the_public_view_hides_restricted_fields_unless_the_pitch_is_published() -> None:
    rpcs = Rpcs(world())
    created = rpcs.call("CreateCompany", c.CreateCompanyRequest(company=full_company()), ALICE)
    for who in (None, person("kc-bob"), person("kc-inv", ("investor",))):
        seen = rpcs.call("GetCompany", c.GetCompanyRequest(name=created.name), who)
        assert seen.display_name == "Acme Analytics" and not seen.viewer_has_full_access
        assert not seen.HasField("contact") and not seen.HasField("pitch")
        assert seen.financials.looking_for_funding and seen.financials.revenue_range == 0
        assert not seen.financials.HasField("funding_target") and seen.viewer_role == 0
    staff = rpcs.call("GetCompany", c.GetCompanyRequest(name=created.name), STAFF)
    assert staff.viewer_has_full_access and staff.contact.email == "hq@acme.io"
    published = full_company()
    published.pitch.published = True
    other = rpcs.call("CreateCompany", c.CreateCompanyRequest(company=published), person("kc-carol"))
    seen = rpcs.call("GetCompany", c.GetCompanyRequest(name=other.name))
    assert seen.pitch.pain_point == "Blind plants" and not seen.HasField("contact")


def test_bad_enums_dates_and_names_are_invalid_arguments() -> None:
    rpcs = Rpcs(world())
    bad = c.Company(display_name="A", company_size=99)  # type: ignore[arg-type]
    bad.financials.revenue_range = 42  # type: ignore[assignment]
    bad.financials.last_funding_date.CopyFrom(date_pb2.Date(year=2020, month=2, day=30))
    bad.financials.funding_rounds.add(stage="seed", close_date=date_pb2.Date(year=2020, month=13, day=1))
    found = failure(lambda: rpcs.call("CreateCompany", c.CreateCompanyRequest(company=bad), ALICE))
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(found.fields) == {
        "company.company_size",
        "company.financials.revenue_range",
        "company.financials.last_funding_date",
        "company.financials.funding_rounds[0].close_date",
    }
    assert failure(lambda: rpcs.call("GetCompany", c.GetCompanyRequest(name="users/x"))).fields == ["name"]
    names = c.BatchGetCompaniesRequest(names=["companies/a", "users/b"])
    assert failure(lambda: rpcs.call("BatchGetCompanies", names, SERVICE)).fields == ["names[1]"]
    logo = c.GetCompanyLogoRequest(name="companies/a")
    assert failure(lambda: rpcs.call("GetCompanyLogo", logo)).code == grpc.StatusCode.INVALID_ARGUMENT


def test_update_resolves_the_mask_and_names_bad_paths() -> None:
    rpcs = Rpcs(world())
    created = rpcs.call("CreateCompany", c.CreateCompanyRequest(company=full_company()), ALICE)
    change = c.Company(
        name=created.name, display_name="Acme 2", tagline="ignored", contact=c.CompanyContact(email="new@acme.io")
    )
    mask = field_mask_pb2.FieldMask(paths=["display_name", "contact.email"])
    updated = rpcs.call("UpdateCompany", c.UpdateCompanyRequest(company=change, update_mask=mask), ALICE)
    assert (updated.display_name, updated.tagline) == ("Acme 2", "Dashboards for plants")
    assert updated.contact.email == "new@acme.io" and updated.contact.phone_number == "+33612345678"
    assert updated.viewer_role == page_pb2.PAGE_ROLE_OWNER
    # A whole nested message by its name; no mask: every field the request sets.
    whole = c.UpdateCompanyRequest(company=change, update_mask=field_mask_pb2.FieldMask(paths=["contact"]))
    cleared = rpcs.call("UpdateCompany", whole, ALICE)
    assert cleared.contact.phone_number == "" and cleared.contact.email == "new@acme.io"
    unmasked = rpcs.call(
        "UpdateCompany", c.UpdateCompanyRequest(company=c.Company(name=created.name, tagline="T")), ALICE
    )
    assert (unmasked.tagline, unmasked.display_name) == ("T", "Acme 2")
    bad = c.UpdateCompanyRequest(
        company=c.Company(name=created.name, founding_year=3000),
        update_mask=field_mask_pb2.FieldMask(paths=["founding_year", "state"]),
    )
    assert failure(lambda: rpcs.call("UpdateCompany", bad, ALICE)).fields == ["update_mask.paths[state]"]
    bad.update_mask.paths[:] = ["founding_year"]
    assert failure(lambda: rpcs.call("UpdateCompany", bad, ALICE)).fields == ["company.founding_year"]
    nameless = c.UpdateCompanyRequest(company=c.Company(display_name="X"))
    assert failure(lambda: rpcs.call("UpdateCompany", nameless, ALICE)).fields == ["company.name"]


def test_list_requests_map_filters_and_refuse_bad_ones() -> None:
    w = world()
    rpcs = Rpcs(w)
    rpcs.call("CreateCompany", c.CreateCompanyRequest(company=full_company()), ALICE)
    found = rpcs.call(
        "ListCompanies",
        c.ListCompaniesRequest(
            hq_country_codes=[" fr "],
            company_sizes=[c.COMPANY_SIZE_11_50],
            licensing_models=[c.LICENSING_MODEL_SAAS],
            industries=["manufacturing"],
            looking_for_funding=True,
            query="acme",
            states=[c.COMPANY_STATE_ACTIVE],
        ),
    )
    assert [x.display_name for x in found.companies] == ["Acme Analytics"] and found.total_size == 1
    assert not found.companies[0].viewer_has_full_access
    assert rpcs.call("ListCompanies", c.ListCompaniesRequest(looking_for_funding=False)).total_size == 0
    bad = c.ListCompaniesRequest(query="x" * 201, company_sizes=[42], states=[9])  # type: ignore[list-item]
    assert set(failure(lambda: rpcs.call("ListCompanies", bad)).fields) == {"query", "company_sizes[0]", "states[0]"}
    mine = rpcs.call("ListCompanies", c.ListCompaniesRequest(caller_is_member=True), ALICE)
    assert [x.viewer_role for x in mine.companies] == [page_pb2.PAGE_ROLE_OWNER]


def test_logos_claims_and_their_views() -> None:
    w = world(unit_settings(public_api_base_url="https://api.example/"))
    rpcs = Rpcs(w)
    created = rpcs.call("CreateCompany", c.CreateCompanyRequest(company=c.Company(display_name="Acme")), ALICE)
    body = httpbody_pb2.HttpBody(content_type="image/png", data=PNG)
    uploaded = rpcs.call("UploadCompanyLogo", c.UploadCompanyLogoRequest(name=created.name, body=body), ALICE)
    assert uploaded.logo_url == f"https://api.example/v1/{created.name}/logo" and uploaded.viewer_has_full_access
    served = rpcs.call("GetCompanyLogo", c.GetCompanyLogoRequest(name=f"{created.name}/logo"))
    assert (served.body.content_type, served.body.data) == ("image/png", PNG)
    listed = c.Company(display_name="Listed", website_url="https://listed.io")
    page = rpcs.call("CreateCompany", c.CreateCompanyRequest(company=listed, pre_listed=True), STAFF)
    assert page.state == c.COMPANY_STATE_PRE_LISTED and page.viewer_role == 0 and page.viewer_has_full_access
    bob = person("kc-bob", email="bob@listed.io", verified=False)
    claim = c.ClaimCompanyRequest(name=page.name, message="CEO", evidence_url=" https://linkedin.com/in/bob ")
    pending = rpcs.call("ClaimCompany", claim, bob)
    assert pending.state == c.COMPANY_STATE_CLAIM_PENDING and not pending.viewer_has_full_access
    assert pending.claimant == ""  # the public view hides who claims
    rejected = rpcs.call("RejectCompanyClaim", c.RejectCompanyClaimRequest(name=page.name, reason="no"), STAFF)
    assert rejected.state == c.COMPANY_STATE_PRE_LISTED and rejected.viewer_has_full_access
    rpcs.call("ClaimCompany", claim, bob)
    approved = rpcs.call("ApproveCompanyClaim", c.ApproveCompanyClaimRequest(name=page.name), SERVICE)
    assert approved.state == c.COMPANY_STATE_ACTIVE and approved.claimant == "" and approved.viewer_has_full_access
    stored = w.stored(page.name.removeprefix("companies/"))
    assert stored.claim is not None and stored.claim.evidence_url == "https://linkedin.com/in/bob"
    assert failure(lambda: rpcs.call("GetCompanyLogo", c.GetCompanyLogoRequest(name=f"{page.name}/logo"))) == (
        Failure(grpc.StatusCode.NOT_FOUND, "LOGO_NOT_FOUND")
    )


def test_member_and_invitation_rules_through_the_company_rpcs() -> None:
    """The shared page model's rules, as company callers meet them (the model's own tests are in libs/common)."""
    w = world()
    rpcs = Rpcs(w)
    alice, mallory = person("kc-alice"), person("kc-mallory")
    page = rpcs.call("CreateCompany", c.CreateCompanyRequest(company=c.Company(display_name="A")), alice).name
    other = rpcs.call("CreateCompany", c.CreateCompanyRequest(company=c.Company(display_name="M")), mallory).name

    def invite(who: Principal, email: str, role: page_pb2.PageRole.ValueType) -> c.Invitation:
        request = c.CreateInvitationRequest(parent=page, invitation=c.Invitation(email=email, role=role))
        invitation: c.Invitation = rpcs.call("CreateInvitation", request, who)
        return invitation

    carol = person("kc-carol", email="carol@example.com")
    invitation = invite(alice, "carol@example.com", page_pb2.PAGE_ROLE_ADMIN)
    accept = c.AcceptInvitationRequest(name=invitation.name, token=mailed_token(w.store, "carol@example.com"))
    wrong = c.AcceptInvitationRequest(name=invitation.name, token=accept.token + "x")
    assert failure(lambda: rpcs.call("AcceptInvitation", wrong, carol)).reason == "INVITATION_TOKEN_INVALID"
    rpcs.call("AcceptInvitation", accept, carol)
    assert failure(lambda: invite(carol, "d@example.com", page_pb2.PAGE_ROLE_OWNER)).reason == "ROLE_ABOVE_OWN"
    editor = page_pb2.PAGE_ROLE_EDITOR
    demote_alice = c.UpdateMemberRequest(member=c.Member(name=f"{page}/members/kc-alice", role=editor))
    assert failure(lambda: rpcs.call("UpdateMember", demote_alice, carol)).reason == "MEMBER_OUTRANKS_CALLER"
    assert failure(lambda: rpcs.call("UpdateMember", demote_alice, alice)).reason == "LAST_OWNER"
    # Ids of another page never reach its members; a page that does not exist is denied first.
    across = c.DeleteMemberRequest(name=f"{other}/members/kc-alice")
    assert failure(lambda: rpcs.call("DeleteMember", across, mallory)).reason == "MEMBER_NOT_FOUND"
    direct = c.DeleteMemberRequest(name=f"{page}/members/kc-alice")
    assert failure(lambda: rpcs.call("DeleteMember", direct, mallory)).code == grpc.StatusCode.PERMISSION_DENIED
    pending = invite(alice, "someone@example.com", page_pb2.PAGE_ROLE_VIEWER)
    foreign = c.RevokeInvitationRequest(name=pending.name.replace(page, other))
    assert failure(lambda: rpcs.call("RevokeInvitation", foreign, mallory)).reason == "INVITATION_NOT_FOUND"
    ghost = c.ListMembersRequest(parent="companies/0190aaaa-0000-7000-8000-000000000000")
    assert failure(lambda: rpcs.call("ListMembers", ghost, mallory)).code == grpc.StatusCode.PERMISSION_DENIED
    # Past its expiry, before the job ran, an invitation cannot be accepted.
    w.clock.advance(hours=w.settings.invitation_ttl_hours + 1)
    late = c.AcceptInvitationRequest(name=pending.name, token=mailed_token(w.store, "someone@example.com"))
    someone = person("kc-someone", email="someone@example.com")
    assert failure(lambda: rpcs.call("AcceptInvitation", late, someone)).reason == "INVITATION_EXPIRED"
    assert (
        w.app.invitations.expire_due() == 1
        and w.events("InvitationChanged")[-1].details["invitation"] == (pending.name.rsplit("/", 1)[1])
    )

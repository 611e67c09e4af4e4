"""Company pages through the real server: create, views, update masks, soft delete, batch get."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.type import date_pb2

from devinsider.common.v1 import money_pb2, page_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.grpc.status import error_info, field_violations, from_rpc_error

from ..conftest import Caller, FakeClock, minimal_company

Stub = company_pb2_grpc.CompanyServiceStub
MakeCaller = Callable[..., Caller]


def _code(call: Callable[[], object]) -> tuple[grpc.StatusCode, str, list[str]]:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    error = raised.value
    status = from_rpc_error(error)
    assert status is not None
    info = error_info(status)
    return error.code(), info.reason if info else "", [v.field for v in field_violations(status)]


def _full_company() -> company_pb2.Company:
    return company_pb2.Company(
        display_name="Acme Analytics",
        legal_name="Acme Analytics SAS",
        tagline="Dashboards for plants",
        description="We build analytics for factories.",
        website_url="https://www.acme.io",
        hq_country_code="FR",
        founding_year=2015,
        company_size=company_pb2.COMPANY_SIZE_11_50,
        industries=["manufacturing"],
        solution_categories=["analytics"],
        target_regions=["europe"],
        target_country_codes=["FR", "DE"],
        licensing_models=[company_pb2.LICENSING_MODEL_SAAS],
        distribution_channels=[company_pb2.DISTRIBUTION_CHANNEL_DIRECT],
        technology_partners=["Microsoft Azure"],
        contact=company_pb2.CompanyContact(email="hq@acme.io", phone_number="+33612345678"),
        financials=company_pb2.CompanyFinancials(
            revenue_range=company_pb2.REVENUE_RANGE_1M_5M,
            looking_for_funding=True,
            funding_target=money_pb2.Money(currency_code="EUR", amount_minor=500_000_00),
            funding_rounds=[
                company_pb2.FundingRound(
                    stage="seed",
                    amount=money_pb2.Money(currency_code="EUR", amount_minor=100_000_00),
                    close_date=date_pb2.Date(year=2020, month=3, day=1),
                )
            ],
        ),
        pitch=company_pb2.CompanyPitch(pain_point="Blind plants", differentiator="Fast", team="Ten engineers"),
    )


def test_create_makes_the_caller_owner_and_members_see_everything(stub: Stub, caller: MakeCaller) -> None:
    alice = caller("kc-alice")
    created = stub.CreateCompany(company_pb2.CreateCompanyRequest(company=_full_company()), metadata=alice.metadata)
    assert created.name.startswith("companies/")
    assert created.state == company_pb2.COMPANY_STATE_ACTIVE
    assert created.viewer_role == page_pb2.PAGE_ROLE_OWNER and created.viewer_has_full_access
    assert created.contact.email == "hq@acme.io"
    assert created.financials.funding_target.amount_minor == 500_000_00
    assert created.financials.funding_rounds[0].close_date.year == 2020
    assert created.completeness.program_matchmaking and created.completeness.investor_matchmaking
    members = stub.ListMembers(company_pb2.ListMembersRequest(parent=created.name), metadata=alice.metadata)
    assert [(m.subject, m.role) for m in members.members] == [("kc-alice", page_pb2.PAGE_ROLE_OWNER)]


def test_public_view_hides_restricted_fields(stub: Stub, caller: MakeCaller) -> None:
    alice, bob = caller("kc-alice"), caller("kc-bob")
    created = stub.CreateCompany(company_pb2.CreateCompanyRequest(company=_full_company()), metadata=alice.metadata)
    for metadata in ((), bob.metadata, caller("kc-inv", roles=("investor",)).metadata):
        seen = stub.GetCompany(company_pb2.GetCompanyRequest(name=created.name), metadata=metadata)
        assert seen.display_name == "Acme Analytics" and not seen.viewer_has_full_access
        assert not seen.HasField("contact") and not seen.HasField("pitch")
        assert seen.financials.looking_for_funding and seen.financials.revenue_range == 0
        assert not seen.financials.HasField("funding_target") and seen.viewer_role == 0
    staff = stub.GetCompany(
        company_pb2.GetCompanyRequest(name=created.name), metadata=caller("kc-staff", roles=("admin",)).metadata
    )
    assert staff.viewer_has_full_access and staff.contact.email == "hq@acme.io"


def test_a_published_pitch_is_public(stub: Stub, caller: MakeCaller) -> None:
    alice = caller("kc-alice")
    company = _full_company()
    company.pitch.published = True
    created = stub.CreateCompany(company_pb2.CreateCompanyRequest(company=company), metadata=alice.metadata)
    seen = stub.GetCompany(company_pb2.GetCompanyRequest(name=created.name))
    assert seen.pitch.pain_point == "Blind plants" and not seen.HasField("contact")


def test_one_company_per_isv_user_and_request_id_makes_create_idempotent(stub: Stub, caller: MakeCaller) -> None:
    alice = caller("kc-alice")
    request = company_pb2.CreateCompanyRequest(company=minimal_company(), request_id="r-1")
    first = stub.CreateCompany(request, metadata=alice.metadata)
    again = stub.CreateCompany(request, metadata=alice.metadata)
    assert again.name == first.name
    second = company_pb2.CreateCompanyRequest(company=minimal_company("Other"), request_id="r-2")
    assert _code(lambda: stub.CreateCompany(second, metadata=alice.metadata))[:2] == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "ONE_COMPANY_PER_USER",
    )
    # Once the page is deleted, the founder may start another one.
    stub.DeleteCompany(company_pb2.DeleteCompanyRequest(name=first.name), metadata=alice.metadata)
    assert stub.CreateCompany(second, metadata=alice.metadata).display_name == "Other"


def test_create_validates_every_field(stub: Stub, caller: MakeCaller) -> None:
    bad = company_pb2.Company(
        display_name="",
        website_url="ftp:/nope",
        hq_country_code="fr",
        founding_year=1700,
        industries=["Not A Code"],
        target_country_codes=["XXX"],
        tagline="x" * 161,
        contact=company_pb2.CompanyContact(email="not-mail", phone_number="123"),
        financials=company_pb2.CompanyFinancials(funding_target=money_pb2.Money(currency_code="euro", amount_minor=-1)),
        licensing_models=[company_pb2.LICENSING_MODEL_UNSPECIFIED],
    )
    code, _, fields = _code(
        lambda: stub.CreateCompany(company_pb2.CreateCompanyRequest(company=bad), metadata=caller("kc-a").metadata)
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(fields) == {
        "company.display_name",
        "company.website_url",
        "company.hq_country_code",
        "company.founding_year",
        "company.industries[0]",
        "company.target_country_codes[0]",
        "company.tagline",
        "company.contact.email",
        "company.contact.phone_number",
        "company.financials.funding_target.currency_code",
        "company.financials.funding_target.amount_minor",
        "company.licensing_models",
    }


def test_unknown_enum_values_are_invalid(stub: Stub, caller: MakeCaller) -> None:
    bad = minimal_company(company_size=99)
    code, _, fields = _code(
        lambda: stub.CreateCompany(company_pb2.CreateCompanyRequest(company=bad), metadata=caller("kc-a").metadata)
    )
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["company.company_size"])


def test_update_changes_only_masked_fields_and_validates_them(stub: Stub, caller: MakeCaller) -> None:
    alice = caller("kc-alice")
    created = stub.CreateCompany(company_pb2.CreateCompanyRequest(company=_full_company()), metadata=alice.metadata)
    change = company_pb2.Company(
        name=created.name,
        display_name="Acme 2",
        tagline="ignored",
        contact=company_pb2.CompanyContact(email="new@acme.io"),
    )
    mask = field_mask_pb2.FieldMask(paths=["display_name", "contact.email"])
    updated = stub.UpdateCompany(
        company_pb2.UpdateCompanyRequest(company=change, update_mask=mask), metadata=alice.metadata
    )
    assert (updated.display_name, updated.tagline) == ("Acme 2", "Dashboards for plants")
    assert updated.contact.email == "new@acme.io" and updated.contact.phone_number == "+33612345678"
    # A whole nested message by its name.
    mask = field_mask_pb2.FieldMask(paths=["contact"])
    cleared = stub.UpdateCompany(
        company_pb2.UpdateCompanyRequest(company=change, update_mask=mask), metadata=alice.metadata
    )
    assert cleared.contact.phone_number == "" and cleared.contact.email == "new@acme.io"
    bad = company_pb2.UpdateCompanyRequest(
        company=company_pb2.Company(name=created.name, founding_year=3000),
        update_mask=field_mask_pb2.FieldMask(paths=["founding_year", "state"]),
    )
    assert _code(lambda: stub.UpdateCompany(bad, metadata=alice.metadata))[::2] == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ["update_mask.paths[state]"],
    )
    bad.update_mask.paths[:] = ["founding_year"]
    assert _code(lambda: stub.UpdateCompany(bad, metadata=alice.metadata))[::2] == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ["company.founding_year"],
    )


def test_soft_delete_hides_the_page_except_from_staff(stub: Stub, caller: MakeCaller, clock: FakeClock) -> None:
    alice, staff = caller("kc-alice"), caller("kc-staff", roles=("admin",))
    created = stub.CreateCompany(company_pb2.CreateCompanyRequest(company=minimal_company()), metadata=alice.metadata)
    stub.DeleteCompany(company_pb2.DeleteCompanyRequest(name=created.name), metadata=alice.metadata)
    get = company_pb2.GetCompanyRequest(name=created.name)
    assert _code(lambda: stub.GetCompany(get, metadata=alice.metadata))[:2] == (
        grpc.StatusCode.NOT_FOUND,
        "COMPANY_NOT_FOUND",
    )
    seen = stub.GetCompany(get, metadata=staff.metadata)
    assert seen.state == company_pb2.COMPANY_STATE_DELETED and seen.HasField("delete_time")
    assert (
        _code(lambda: stub.DeleteCompany(company_pb2.DeleteCompanyRequest(name=created.name), metadata=staff.metadata))[
            0
        ]
        == grpc.StatusCode.NOT_FOUND
    )
    listed = stub.ListCompanies(company_pb2.ListCompaniesRequest())
    assert created.name not in [c.name for c in listed.companies]


def test_batch_get_returns_full_views_in_request_order(stub: Stub, caller: MakeCaller) -> None:
    names = []
    for i in range(3):
        owner = caller(f"kc-owner-{i}")
        names.append(
            stub.CreateCompany(company_pb2.CreateCompanyRequest(company=_full_company()), metadata=owner.metadata).name
        )
    stub.DeleteCompany(company_pb2.DeleteCompanyRequest(name=names[1]), metadata=caller("kc-owner-1").metadata)
    service = caller("svc-matching", roles=("service",))
    request = company_pb2.BatchGetCompaniesRequest(names=[names[2], "companies/unknown", names[1], names[0]])
    found = stub.BatchGetCompanies(request, metadata=service.metadata)
    assert [c.name for c in found.companies] == [names[2], names[0]]
    assert all(c.contact.email == "hq@acme.io" for c in found.companies)
    bad = company_pb2.BatchGetCompaniesRequest(names=["companies/a", "users/b"])
    assert _code(lambda: stub.BatchGetCompanies(bad, metadata=service.metadata))[::2] == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ["names[1]"],
    )

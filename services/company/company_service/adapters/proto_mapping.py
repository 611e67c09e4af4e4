"""Domain objects <-> proto messages (requests, responses and event payloads)."""

from __future__ import annotations

from datetime import date, datetime

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from company_service.domain.content import (
    CompanyContent,
    CompanySize,
    Contact,
    DistributionChannel,
    Financials,
    FundingRound,
    LicensingModel,
    Money,
    Pitch,
    RevenueRange,
)
from company_service.domain.model import Company, CompanyState
from company_service.domain.rules import completeness
from devinsider.common.v1 import money_pb2
from devinsider.company.v1 import company_pb2
from devinsider_common.clock import as_utc
from devinsider_common.errors import Violations
from devinsider_common.field_mask import json_path
from devinsider_common.grpc.requests import optional_enum, repeated_enum
from devinsider_common.pages.roles import PageRole

COMPANY_STATES = {
    CompanyState.PRE_LISTED: company_pb2.COMPANY_STATE_PRE_LISTED,
    CompanyState.CLAIM_PENDING: company_pb2.COMPANY_STATE_CLAIM_PENDING,
    CompanyState.ACTIVE: company_pb2.COMPANY_STATE_ACTIVE,
    CompanyState.DELETED: company_pb2.COMPANY_STATE_DELETED,
}


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(as_utc(value))
    return stamp


def _money_out(money: Money) -> money_pb2.Money | None:
    return money_pb2.Money(currency_code=money.currency_code, amount_minor=money.amount_minor) if money.is_set else None


def _date_out(value: date | None) -> date_pb2.Date | None:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day) if value else None


def company_to_proto(
    company: Company, *, full: bool, viewer_role: PageRole | None = None, logo_url: str = ""
) -> company_pb2.Company:
    """The page as everyone sees it, or with its restricted fields (`full`)."""
    c = company.content
    done = completeness(c)
    fin = c.financials
    message = company_pb2.Company(
        name=company.name,
        display_name=c.display_name,
        legal_name=c.legal_name,
        tagline=c.tagline,
        description=c.description,
        website_url=c.website_url,
        hq_country_code=c.hq_country_code,
        founding_year=c.founding_year,
        company_size=int(c.company_size),  # type: ignore[arg-type]
        logo_url=logo_url if company.logo else "",
        industries=c.industries,
        solution_categories=c.solution_categories,
        target_regions=c.target_regions,
        target_country_codes=c.target_country_codes,
        licensing_models=[int(v) for v in c.licensing_models],  # type: ignore[misc]
        distribution_channels=[int(v) for v in c.distribution_channels],  # type: ignore[misc]
        technology_partners=c.technology_partners,
        wanted_technology_partners=c.wanted_technology_partners,
        financials=company_pb2.CompanyFinancials(looking_for_funding=fin.looking_for_funding),
        state=COMPANY_STATES[company.state],
        completeness=company_pb2.CompanyCompleteness(
            program_matchmaking=done.program_ready,
            investor_matchmaking=done.investor_ready,
            program_missing_fields=[json_path(p) for p in done.program_missing],
            investor_missing_fields=[json_path(p) for p in done.investor_missing],
        ),
        viewer_role=int(viewer_role or 0),  # type: ignore[arg-type]
        viewer_has_full_access=full,
        claimant=company.claim.user if company.claim and full else "",
        create_time=timestamp(company.created_at),
        update_time=timestamp(company.updated_at),
        delete_time=timestamp(company.deleted_at),
        orphan_time=timestamp(company.orphaned_at),
    )
    if full or c.pitch.published:
        message.pitch.CopyFrom(company_pb2.CompanyPitch(**c.pitch.to_dict()))
    if full:
        message.contact.CopyFrom(company_pb2.CompanyContact(**c.contact.to_dict()))
        message.financials.CopyFrom(
            company_pb2.CompanyFinancials(
                revenue_range=int(fin.revenue_range),  # type: ignore[arg-type]
                looking_for_funding=fin.looking_for_funding,
                funding_target=_money_out(fin.funding_target),
                funding_rounds=[
                    company_pb2.FundingRound(
                        stage=r.stage, amount=_money_out(r.amount), close_date=_date_out(r.close_date)
                    )
                    for r in fin.funding_rounds
                ],
                last_funding_date=_date_out(fin.last_funding_date),
                total_raised=_money_out(fin.total_raised),
            )
        )
    return message


def _date_in(checks: Violations, message: date_pb2.Date, present: bool, path: str) -> date | None:
    if not present or (message.year, message.month, message.day) == (0, 0, 0):
        return None
    try:
        return date(message.year, message.month, message.day)
    except ValueError:
        checks.add(path, "must be a full calendar date")
        return None


def _money_in(message: money_pb2.Money) -> Money:
    return Money(message.currency_code.strip().upper(), message.amount_minor)


def content_from_proto(message: company_pb2.Company) -> CompanyContent:
    """The editable content of a request's Company; unknown enum values and bad dates are INVALID_ARGUMENT."""
    checks = Violations()
    p = "company."
    fin = message.financials
    rounds = tuple(
        FundingRound(
            stage=r.stage.strip(),
            amount=_money_in(r.amount),
            close_date=_date_in(
                checks, r.close_date, r.HasField("close_date"), f"{p}financials.funding_rounds[{i}].close_date"
            ),
        )
        for i, r in enumerate(fin.funding_rounds)
    )
    content = CompanyContent(
        display_name=message.display_name.strip(),
        legal_name=message.legal_name.strip(),
        tagline=message.tagline.strip(),
        description=message.description,
        website_url=message.website_url.strip(),
        hq_country_code=message.hq_country_code.strip(),
        founding_year=message.founding_year,
        company_size=optional_enum(CompanySize, message.company_size, p + "company_size", checks)
        or CompanySize.UNSPECIFIED,
        industries=tuple(v.strip() for v in message.industries),
        solution_categories=tuple(v.strip() for v in message.solution_categories),
        target_regions=tuple(v.strip() for v in message.target_regions),
        target_country_codes=tuple(v.strip() for v in message.target_country_codes),
        licensing_models=repeated_enum(LicensingModel, message.licensing_models, p + "licensing_models", checks),
        distribution_channels=repeated_enum(
            DistributionChannel, message.distribution_channels, p + "distribution_channels", checks
        ),
        technology_partners=tuple(v.strip() for v in message.technology_partners),
        wanted_technology_partners=tuple(v.strip() for v in message.wanted_technology_partners),
        contact=Contact(
            email=message.contact.email.strip().lower(),
            phone_number=message.contact.phone_number.strip(),
            postal_address=message.contact.postal_address,
            contact_name=message.contact.contact_name.strip(),
            linkedin_url=message.contact.linkedin_url.strip(),
        ),
        financials=Financials(
            revenue_range=optional_enum(RevenueRange, fin.revenue_range, p + "financials.revenue_range", checks)
            or RevenueRange.UNSPECIFIED,
            looking_for_funding=fin.looking_for_funding,
            funding_target=_money_in(fin.funding_target),
            funding_rounds=rounds,
            last_funding_date=_date_in(
                checks, fin.last_funding_date, fin.HasField("last_funding_date"), p + "financials.last_funding_date"
            ),
            total_raised=_money_in(fin.total_raised),
        ),
        pitch=Pitch(
            pain_point=message.pitch.pain_point,
            differentiator=message.pitch.differentiator,
            team=message.pitch.team,
            published=message.pitch.published,
        ),
    )
    checks.raise_if_any("invalid company")
    return content

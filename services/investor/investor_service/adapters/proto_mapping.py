"""Domain objects <-> proto messages (requests, responses and event payloads)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from devinsider.common.v1 import money_pb2
from devinsider.investor.v1 import investor_pb2
from devinsider_common.clock import as_utc
from devinsider_common.pages.model import Invitation, Member
from devinsider_common.pages.proto_mapping import invitation_to_proto, member_to_proto
from investor_service.domain.model import Contact, Investor, InvestorView, Money, Profile

COLLECTION = "investors"


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(as_utc(value))
    return stamp


def _money_to_proto(value: Money | None) -> money_pb2.Money | None:
    return (
        None if value is None else money_pb2.Money(currency_code=value.currency_code, amount_minor=value.amount_minor)
    )


def investor_to_proto(view: InvestorView) -> investor_pb2.Investor:
    """The page as `view` shows it: `contact` only with full access."""
    investor = view.investor
    p = investor.profile
    message = investor_pb2.Investor(
        name=investor.name,
        display_name=p.display_name,
        category=p.category,  # type: ignore[arg-type]
        investor_type=p.investor_type,  # type: ignore[arg-type]
        tagline=p.tagline,
        description=p.description,
        website_url=p.website_url,
        logo_url=p.logo_url,
        hq_country_code=p.hq_country_code,
        ticket_min=_money_to_proto(p.ticket_min),
        ticket_max=_money_to_proto(p.ticket_max),
        funding_stages=p.funding_stages,
        industries=p.industries,
        solution_categories=p.solution_categories,
        regions=p.regions,
        country_codes=p.country_codes,
        portfolio=p.portfolio,
        state=int(investor.state),  # type: ignore[arg-type]
        viewer_role=int(view.role or 0),  # type: ignore[arg-type]
        viewer_has_full_access=view.full,
        create_time=timestamp(investor.created_at),
        update_time=timestamp(investor.updated_at),
        delete_time=timestamp(investor.deleted_at),
        orphan_time=timestamp(investor.orphaned_at),
    )
    if view.full:
        c = p.contact
        message.contact.CopyFrom(
            investor_pb2.InvestorContact(
                email=c.email, phone_number=c.phone_number, contact_name=c.contact_name, linkedin_url=c.linkedin_url
            )
        )
    return message


def _money_from_proto(message: investor_pb2.Investor, field: str) -> Money | None:
    if not message.HasField(field):  # type: ignore[arg-type]
        return None
    value: money_pb2.Money = getattr(message, field)
    return Money(value.currency_code, value.amount_minor)


def profile_from_proto(message: investor_pb2.Investor) -> Profile:
    """The writable fields of a request's Investor; output-only fields are never read."""
    c = message.contact
    return Profile(
        display_name=message.display_name,
        category=int(message.category),
        investor_type=int(message.investor_type),
        tagline=message.tagline,
        description=message.description,
        website_url=message.website_url,
        logo_url=message.logo_url,
        hq_country_code=message.hq_country_code,
        ticket_min=_money_from_proto(message, "ticket_min"),
        ticket_max=_money_from_proto(message, "ticket_max"),
        funding_stages=tuple(message.funding_stages),
        industries=tuple(message.industries),
        solution_categories=tuple(message.solution_categories),
        regions=tuple(message.regions),
        country_codes=tuple(message.country_codes),
        portfolio=tuple(message.portfolio),
        contact=Contact(
            email=c.email, phone_number=c.phone_number, contact_name=c.contact_name, linkedin_url=c.linkedin_url
        ),
    )


def member_message(member: Member) -> investor_pb2.Member:
    return member_to_proto(member, investor_pb2.Member, COLLECTION)


def invitation_message(invitation: Invitation, page_title: str = "") -> investor_pb2.Invitation:
    return invitation_to_proto(invitation, investor_pb2.Invitation, COLLECTION, page_title)


def full_view(investor: Investor) -> investor_pb2.Investor:
    """Every field (events to Odoo, BatchGetInvestors for services)."""
    return investor_to_proto(InvestorView(investor, full=True))

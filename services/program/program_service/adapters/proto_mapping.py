"""Domain objects -> proto messages (responses and event payloads), and proto -> program content."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from devinsider.program.v1 import program_pb2
from devinsider_common.clock import as_utc
from devinsider_common.pages import proto_mapping as pages_mapping
from devinsider_common.pages.model import Invitation, Member
from devinsider_common.pages.roles import PageRole
from program_service.domain.application import Application, ApplicationState
from program_service.domain.program import Program, ProgramContent, ProgramState, ProgramType

COLLECTION = "programs"
PROGRAM_STATES = {
    ProgramState.DRAFT: program_pb2.PROGRAM_STATE_DRAFT,
    ProgramState.PUBLISHED: program_pb2.PROGRAM_STATE_PUBLISHED,
    ProgramState.ARCHIVED: program_pb2.PROGRAM_STATE_ARCHIVED,
}
APPLICATION_STATES = {
    ApplicationState.PENDING: program_pb2.APPLICATION_STATE_PENDING,
    ApplicationState.APPROVED: program_pb2.APPLICATION_STATE_APPROVED,
    ApplicationState.REJECTED: program_pb2.APPLICATION_STATE_REJECTED,
    ApplicationState.WITHDRAWN: program_pb2.APPLICATION_STATE_WITHDRAWN,
}


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(as_utc(value))
    return stamp


def program_to_proto(program: Program, viewer_role: PageRole | None = None) -> program_pb2.Program:
    c = program.content
    return program_pb2.Program(
        name=program.name,
        display_name=c.display_name,
        vendor_name=c.vendor_name,
        vendor_company=c.vendor_company,
        program_type=int(c.program_type or 0),  # type: ignore[arg-type]
        tagline=c.tagline,
        description=c.description,
        benefits=c.benefits,
        requirements=c.requirements,
        country_codes=c.country_codes,
        regions=c.regions,
        industries=c.industries,
        solution_categories=c.solution_categories,
        website_url=c.website_url,
        logo_url=c.logo_url,
        state=PROGRAM_STATES[program.state],
        member_company_count=program.member_company_count,
        viewer_role=int(viewer_role or 0),  # type: ignore[arg-type]
        create_time=timestamp(program.created_at),
        update_time=timestamp(program.updated_at),
        publish_time=timestamp(program.published_at),
        archive_time=timestamp(program.archived_at),
        delete_time=timestamp(program.deleted_at),
        orphan_time=timestamp(program.orphaned_at),
    )


def content_from_proto(message: program_pb2.Program) -> ProgramContent:
    """The writable fields as sent (trimmed); validation happens in the domain, which reports every bad
    field at once: an unknown program type reads as none, so it is `program.program_type` "is required"
    beside the others (and ignored, like any field, when the update mask leaves it out)."""
    known = ProgramType._value2member_map_
    return ProgramContent(
        display_name=message.display_name.strip(),
        vendor_name=message.vendor_name.strip(),
        vendor_company=message.vendor_company.strip(),
        program_type=ProgramType(message.program_type) if message.program_type in known else None,
        tagline=message.tagline.strip(),
        description=message.description,
        benefits=tuple(b.strip() for b in message.benefits),
        requirements=tuple(r.strip() for r in message.requirements),
        country_codes=tuple(message.country_codes),
        regions=tuple(message.regions),
        industries=tuple(message.industries),
        solution_categories=tuple(message.solution_categories),
        website_url=message.website_url.strip(),
        logo_url=message.logo_url.strip(),
    )


def application_to_proto(application: Application, program_title: str = "") -> program_pb2.Application:
    return program_pb2.Application(
        name=application.name,
        company=application.company,
        message=application.message,
        state=APPLICATION_STATES[application.state],
        applicant=application.applicant,
        company_display_name=application.company_display_name,
        program_display_name=program_title,
        rejection_reason=application.rejection_reason,
        decider=application.decider,
        create_time=timestamp(application.created_at),
        decide_time=timestamp(application.decided_at),
    )


def member_to_proto(member: Member) -> program_pb2.Member:
    return pages_mapping.member_to_proto(member, program_pb2.Member, COLLECTION)


def invitation_to_proto(invitation: Invitation, page_title: str = "") -> program_pb2.Invitation:
    return pages_mapping.invitation_to_proto(invitation, program_pb2.Invitation, COLLECTION, page_title)

"""`ports.PageEventReader`: the page services' events (company, investor, program) read as page changes.

A created or updated event carries the page as its service's BatchGet* returns it (every field), so its
status is mapped by the very functions the poll uses (`page_directory.STATUS_OF`); a deleted event names
the page. The change holds as of the envelope's `occur_time`, written by the owning service in the
transaction of the change. Every other event on those exchanges (members, invitations, claims) reports
no page change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from google.protobuf.message import Message

from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider.company.v1 import events_pb2 as company_events
from devinsider.investor.v1 import events_pb2 as investor_events
from devinsider.program.v1 import events_pb2 as program_events
from devinsider_common import errors
from devinsider_common.outbox.envelope import unpack_payload
from devinsider_common.pages.names import PageKind, parse_page
from matching_service.adapters.page_directory import STATUS_OF
from matching_service.domain.pages import PageChange


@dataclass(frozen=True)
class _PageEvent:
    kind: PageKind
    message: type[Message]
    page_field: str  # the page message (created, updated), or "" for a deletion (the `name` field)


_EVENTS: dict[str, _PageEvent] = {
    e.message.DESCRIPTOR.full_name: e
    for e in (
        _PageEvent(PageKind.COMPANY, company_events.CompanyCreated, "company"),
        _PageEvent(PageKind.COMPANY, company_events.CompanyUpdated, "company"),
        _PageEvent(PageKind.COMPANY, company_events.CompanyDeleted, ""),
        _PageEvent(PageKind.INVESTOR, investor_events.InvestorCreated, "investor"),
        _PageEvent(PageKind.INVESTOR, investor_events.InvestorUpdated, "investor"),
        _PageEvent(PageKind.INVESTOR, investor_events.InvestorDeleted, ""),
        _PageEvent(PageKind.PROGRAM, program_events.ProgramCreated, "program"),
        _PageEvent(PageKind.PROGRAM, program_events.ProgramUpdated, "program"),
        _PageEvent(PageKind.PROGRAM, program_events.ProgramDeleted, ""),
    )
}


def read_page_event(envelope: EventEnvelope) -> PageChange | None:
    """The page change `envelope` reports; None for the other events; ValueError when it cannot be read."""
    known = _EVENTS.get(envelope.payload.TypeName()) or _EVENTS.get(envelope.event_type)
    if known is None:
        return None
    event: Any = unpack_payload(envelope, known.message)  # ValueError when the payload is another type
    if not envelope.HasField("occur_time"):
        raise ValueError(f"{envelope.event_type} {envelope.event_id} has no occur_time")
    at = envelope.occur_time.ToDatetime(UTC)
    try:
        if not known.page_field:
            return PageChange(parse_page(event.name, "name", (known.kind,)), None, at)
        if not event.HasField(known.page_field):
            raise ValueError(f"{envelope.event_type} {envelope.event_id} carries no {known.page_field}")
        status = STATUS_OF[known.kind](getattr(event, known.page_field))
    except errors.InvalidArgument as error:  # no page name, or one of another kind
        raise ValueError(f"{envelope.event_type} {envelope.event_id}: {error}") from error
    return PageChange(status.page, status, at)

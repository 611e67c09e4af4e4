"""The EventEnvelope around every published event, and its proto3 JSON form on the wire.

JSON rather than binary so that mail, Odoo and analytics consumers read it without our stubs;
the payload is a `google.protobuf.Any`, so its type must be known to whoever renders or parses
it (importing the generated module registers it in the default descriptor pool).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider_common.context import current_request_id

M = TypeVar("M", bound=Message)


def event_type_of(event: Message) -> str:
    """Fully qualified proto name of an event, e.g. `devinsider.user.v1.UserDeleted`."""
    return event.DESCRIPTOR.full_name


def build_envelope(
    event: Message,
    *,
    source: str,
    external_id: str,
    schema_version: int = 1,
    event_id: str | None = None,
    occur_time: datetime | None = None,
) -> EventEnvelope:
    """Wrap `event` with a fresh id, the current time (UTC) and the current request id."""
    envelope = EventEnvelope(
        event_id=event_id or str(uuid.uuid4()),
        event_type=event_type_of(event),
        schema_version=schema_version,
        external_id=external_id,
        source=source,
        request_id=current_request_id(),
    )
    envelope.occur_time.FromDatetime(occur_time or datetime.now(UTC))
    envelope.payload.Pack(event)
    return envelope


def to_json(envelope: EventEnvelope) -> str:
    """Compact proto3 JSON (camelCase field names, `@type` inside the payload), UTF-8 as is."""
    return json.dumps(json_format.MessageToDict(envelope), separators=(",", ":"), ensure_ascii=False)


def from_json(body: str | bytes) -> EventEnvelope:
    """Parse a message body; unknown fields are ignored so newer producers don't break consumers."""
    envelope = EventEnvelope()
    json_format.Parse(body, envelope, ignore_unknown_fields=True)
    return envelope


def unpack_payload(envelope: EventEnvelope, event_class: type[M]) -> M:
    """The payload as `event_class`; ValueError when the envelope carries another type."""
    event = event_class()
    if not envelope.payload.Unpack(event):
        raise ValueError(f"payload is {envelope.payload.TypeName()}, not {event_class.DESCRIPTOR.full_name}")
    return event

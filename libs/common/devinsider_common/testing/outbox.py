"""An outbox that remembers instead of inserting: for testing an event publisher without a database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from google.protobuf.message import Message

from devinsider_common.outbox.writer import OutboxWriter


@dataclass(frozen=True)
class OutboxRow:
    """What `OutboxWriter.add` was given: where the event goes, the event, its external id."""

    exchange: str
    routing_key: str
    event: Message
    external_id: str
    schema_version: int = 1


class RecordingOutbox:
    """`OutboxWriter.add`, remembered in `rows`; `writer` is this object typed as the writer."""

    def __init__(self) -> None:
        self.rows: list[OutboxRow] = []

    @property
    def writer(self) -> OutboxWriter:
        return cast(OutboxWriter, self)

    def add(self, exchange: str, routing_key: str, event: Message, external_id: str, schema_version: int = 1) -> str:
        self.rows.append(OutboxRow(exchange, routing_key, event, external_id, schema_version))
        return str(len(self.rows))

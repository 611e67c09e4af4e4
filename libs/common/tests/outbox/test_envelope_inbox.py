"""Envelope round trip, inbox deduplication, migration helpers (PostgreSQL and SQLite)."""

from __future__ import annotations

import json

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Engine, inspect

from devinsider.common.v1.event_pb2 import EventEnvelope
from devinsider.user.v1.events_pb2 import UserCreated, UserDeleted
from devinsider_common.consumer import SqlInbox
from devinsider_common.context import request_id_var
from devinsider_common.outbox import (
    build_envelope,
    drop_outbox_tables,
    from_json,
    record_once,
    to_json,
    unpack_payload,
)


def test_envelope_round_trips_through_proto3_json() -> None:
    token = request_id_var.set("req-1")
    try:
        envelope = build_envelope(
            UserDeleted(name="users/1", subject="s"), source="user", external_id="users/1", schema_version=2
        )
    finally:
        request_id_var.reset(token)
    body = to_json(envelope)
    assert json.loads(body)["eventType"] == "devinsider.user.v1.UserDeleted"
    parsed = from_json(body)
    assert parsed == envelope
    assert isinstance(parsed, EventEnvelope)
    assert (parsed.request_id, parsed.source, parsed.schema_version) == ("req-1", "user", 2)
    assert unpack_payload(parsed, UserDeleted).subject == "s"
    with pytest.raises(ValueError, match="UserDeleted"):
        unpack_payload(parsed, UserCreated)


def test_inbox_records_each_message_once_per_consumer(any_engine: Engine) -> None:
    with any_engine.begin() as connection:
        assert record_once(connection, "mail", "m-1") is True
        assert record_once(connection, "mail", "m-1") is False
        assert record_once(connection, "odoo", "m-1") is True  # another consumer has its own inbox
    with any_engine.begin() as connection:
        assert SqlInbox(connection).first_time("mail", "m-1") is False
        assert SqlInbox(connection).first_time("mail", "m-2") is True


def test_inbox_row_rolls_back_with_the_consumer_transaction(any_engine: Engine) -> None:
    with any_engine.connect() as connection:
        connection.begin()
        assert record_once(connection, "mail", "m-1") is True
        connection.rollback()
    with any_engine.begin() as connection:
        assert record_once(connection, "mail", "m-1") is True


def test_migration_helpers_create_and_drop_both_tables(any_engine: Engine) -> None:
    assert {"outbox_messages", "inbox_messages"} <= set(inspect(any_engine).get_table_names())
    indexes = {index["name"]: index["column_names"] for index in inspect(any_engine).get_indexes("outbox_messages")}
    assert indexes["ix_outbox_messages_status_available_at"] == ["status", "available_at"]
    uniques = inspect(any_engine).get_unique_constraints("outbox_messages")
    assert [unique["column_names"] for unique in uniques] == [["message_id"]]
    with any_engine.begin() as connection:
        drop_outbox_tables(Operations(MigrationContext.configure(connection)))
    assert not {"outbox_messages", "inbox_messages"} & set(inspect(any_engine).get_table_names())

"""The unlock projection on fakes: billing's UnlockCreated through the shared projector (every kind of page),
and "who unlocked us"."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from devinsider.billing.v1 import billing_pb2, events_pb2
from devinsider.common.v1 import page_pb2
from devinsider_common.consumer import Delivery, PermanentFailure
from devinsider_common.outbox.envelope import build_envelope
from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PageRole
from devinsider_common.pages.unlocks import UnlockProjector
from devinsider_common.testing.failures import Failure, failure

from ..harness import FUND, ISV, NOW, OTHER_ISV, PROGRAM, Contact


def delivery(unlocker: PageName, target: PageName, unlock_id: str, message_id: str = "") -> Delivery:
    unlock = billing_pb2.Unlock(
        name=unlocker.child("unlocks", unlock_id),
        target=page_pb2.PageRef(kind=int(target.kind), name=target.name),  # type: ignore[arg-type]
    )
    unlock.create_time.FromDatetime(NOW)
    event = events_pb2.UnlockCreated(
        unlocker=page_pb2.PageRef(kind=int(unlocker.kind), name=unlocker.name),  # type: ignore[arg-type]
        unlock=unlock,
    )
    envelope = build_envelope(event, source="billing", external_id=unlock.name)
    return Delivery("contact.unlocks", message_id or envelope.event_id, envelope, 1)


def test_the_projector_records_unlocks_of_every_kind_once(contact: Contact) -> None:
    projector = UnlockProjector("contact", None, contact.unit_of_work)
    assert projector.queue.name == "contact.unlocks"
    assert projector(delivery(FUND, ISV, "u1", "m1")) is True
    assert projector(delivery(FUND, ISV, "u1", "m1")) is False  # a redelivery: the inbox
    assert projector(delivery(FUND, ISV, "u1", "m2")) is False  # a replay: the unlock's name
    assert projector(delivery(ISV, FUND, "u2")) is True
    assert projector(delivery(ISV, PROGRAM, "u3")) is True
    with contact.unit_of_work(read_only=True) as uow:
        assert uow.unlocks.has_unlocked(FUND, ISV)
        assert uow.unlocks.has_unlocked(ISV, FUND) and uow.unlocks.has_unlocked(ISV, PROGRAM)
        assert not uow.unlocks.has_unlocked(PROGRAM, ISV)
    broken = delivery(FUND, ISV, "u4")
    broken.envelope.payload.Pack(events_pb2.UnlockCreated())
    with pytest.raises(PermanentFailure):
        projector(broken)


def test_who_unlocked_us_newest_first_for_members(contact: Contact) -> None:
    owner = contact.member(ISV, "alice", PageRole.VIEWER)
    stranger = contact.member(OTHER_ISV, "sam")
    names = [contact.unlock(unlocker, ISV, NOW + timedelta(minutes=n)) for n, unlocker in enumerate((FUND, PROGRAM))]
    contact.unlock(FUND, OTHER_ISV)
    unlocks = contact.app.unlocks
    first, token = unlocks.list_page_unlocks(owner, ISV, 1, "")
    assert [(u.unlock, u.unlocker) for u in first] == [(names[1], PROGRAM)] and token
    second, token = unlocks.list_page_unlocks(owner, ISV, 1, token)
    assert [(u.unlock, u.unlocker, u.target) for u in second] == [(names[0], FUND, ISV)] and token == ""
    denied = failure(lambda: unlocks.list_page_unlocks(stranger, ISV, 10, ""))
    assert denied == Failure(grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")

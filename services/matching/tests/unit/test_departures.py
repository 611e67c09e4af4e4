"""A deleted account in matching (CreatorErasure, on the in-memory unit of work): its subject is erased from
the favorites and blocks it created, which the pages keep; once per message; unusable events dead-lettered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devinsider.user.v1.events_pb2 import UserCreated, UserDeleted
from devinsider_common.consumer import Delivery, PermanentFailure
from devinsider_common.outbox.envelope import build_envelope
from devinsider_common.pages.names import parse_page
from matching_service.domain.social import Block, Favorite
from matching_service.service_layer.departures import CreatorErasure

from ..fakes import World

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ACME, PROGRAM = parse_page("companies/acme", "page"), parse_page("programs/p", "page")


def deleted(subject: str, message_id: str = "m1") -> Delivery:
    envelope = build_envelope(UserDeleted(name="users/1", subject=subject), source="user", external_id="users/1")
    return Delivery("matching.user-deletions", message_id, envelope, 1)


@pytest.fixture
def world() -> World:
    world = World()
    with world.read() as uow:
        uow.favorites.add(Favorite("f1", ACME, PROGRAM, "gone", NOW))
        uow.favorites.add(Favorite("f2", PROGRAM, ACME, "alice", NOW))
        uow.blocks.add(Block("b1", PROGRAM, ACME, "spam", "gone", NOW))
        uow.commit()
    return world


def creators(world: World) -> dict[str, str]:
    with world.read() as uow:
        favorites = (uow.favorites.get("companies/acme", "f1"), uow.favorites.get("programs/p", "f2"))
        found = {f.id: f.creator for f in favorites if f}
        block = uow.blocks.get("programs/p", "b1")
        return found | ({block.id: block.creator} if block else {})


def test_the_subject_is_erased_and_the_pages_keep_their_favorites_and_blocks(world: World) -> None:
    handle = CreatorErasure(world.read)
    assert (handle.queue.name, handle.queue.bindings[0].routing_key) == ("matching.user-deletions", "user.deleted")
    assert handle(deleted("gone")) is True
    assert creators(world) == {"f1": "", "f2": "alice", "b1": ""}


def test_a_redelivery_is_applied_once(world: World) -> None:
    handle = CreatorErasure(world.read)
    assert handle(deleted("gone")) is True
    assert handle(deleted("gone")) is False


@pytest.mark.parametrize(
    "envelope",
    [
        build_envelope(UserCreated(), source="user", external_id="users/1"),
        build_envelope(UserDeleted(name="users/1"), source="user", external_id="users/1"),
    ],
    ids=["another event", "no subject"],
)
def test_an_event_it_cannot_use_is_a_permanent_failure(world: World, envelope: object) -> None:
    with pytest.raises(PermanentFailure):
        CreatorErasure(world.read)(Delivery("matching.user-deletions", "m", envelope, 1))  # type: ignore[arg-type]
    assert creators(world)["f1"] == "gone"

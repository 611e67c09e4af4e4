"""The announcement job of a replica drains the MatchFound rounds a crashed one left owed, once.

(The atomicity of a change with its debt, and announcing once per pair, are tested on the fakes in
tests/unit/test_announcements.py and on both databases in tests/adapters/test_repositories.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.tokens import CallerFactory
from matching_service.bootstrap import MatchingService
from matching_service.service_layer.unit_of_work import SqlMatchingUnitOfWork
from matching_service.settings import MatchingSettings

from ..conftest import PageWorld, start_matching
from ..protos import Stub, set_profile

MATCH_FOUND = "devinsider.matching.v1.MatchFound"


def _announced(service: MatchingService) -> int:
    query = select(func.count()).select_from(outbox_messages).where(outbox_messages.c.event_type == MATCH_FOUND)
    with service.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _pending(service: MatchingService) -> list[str]:
    with SqlMatchingUnitOfWork(service.engine) as uow:
        return uow.announcements.pages()


def test_a_crash_after_the_commit_leaves_the_round_pending_and_the_job_announces_it_once(
    service: MatchingService,
    settings: MatchingSettings,
    stub: Stub,
    world: PageWorld,
    callers: CallerFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world.add("companies/acme", owner="alice", facts={"industries": ["fintech"]})
    world.add("programs/p", owner="pat", facts={"industries": ["fintech"]})
    alice, pat = callers("alice").metadata, callers("pat", ("program",)).metadata
    set_profile(stub, "companies/acme", alice)
    # The process "dies" between the commit of the change and its announcements.
    monkeypatch.setattr(service.app.announcer, "after_change", lambda page: 0)
    set_profile(stub, "programs/p", pat)
    assert _announced(service) == 0 and _pending(service) == ["programs/p"]
    # A restarted replica's job drains the debt: the pair is announced exactly once.
    restarted = start_matching(settings.model_copy(update={"announcement_drain_interval_seconds": 0.1}))
    try:
        assert wait_for(lambda: _pending(service) == [])
        assert _announced(service) == 1
        set_profile(stub, "programs/p", pat)  # a replay is drained later ...
        assert wait_for(lambda: _pending(service) == [])
        assert _announced(service) == 1  # ... and announces nothing new
    finally:
        restarted.stop(grace=0)

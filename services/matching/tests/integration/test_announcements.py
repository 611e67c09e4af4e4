"""MatchFound is owed atomically with the profile change that causes it, and announced once per pair.

A profile change writes a pending announcement in its own transaction; the drain that writes the
MatchFound events records the pair in `notified_matches` (insert if absent) and removes the pending
row in one transaction. So a failure inside the change leaves neither the profile nor the debt, a
crash after the commit leaves the debt for the job, and replays never announce a pair twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from devinsider.matching.v1 import matching_pb2 as pb
from devinsider.matching.v1 import matching_pb2_grpc
from devinsider_common.auth.principal import Principal
from devinsider_common.cache import InMemoryCache
from devinsider_common.grpc.clients import ChannelFactory
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.testing.polling import wait_for
from matching_service.adapters.page_directory import GrpcPageDirectory
from matching_service.adapters.tables import notified_matches, profiles
from matching_service.bootstrap import MatchingService, build_app
from matching_service.domain.profile import Criteria, CriteriaProfile
from matching_service.domain.taxonomy import Dimension
from matching_service.service_layer.unit_of_work import MatchingUnitOfWork
from matching_service.settings import MatchingSettings

from ..conftest import PageWorld, TokenFactory, bearer, start_matching
from .test_matching_api import IND, crit, set_profile

MATCH_FOUND = "devinsider.matching.v1.MatchFound"
PROFILE_UPDATED = "devinsider.matching.v1.CriteriaProfileUpdated"
Stub = matching_pb2_grpc.MatchingServiceStub


def _events(service: MatchingService, event_type: str) -> int:
    query = select(func.count()).select_from(outbox_messages).where(outbox_messages.c.event_type == event_type)
    with service.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _pending(service: MatchingService) -> list[str]:
    with MatchingUnitOfWork(service.engine) as uow:
        return uow.announcements.pages()


def _notified(service: MatchingService) -> list[tuple[str, str]]:
    with service.engine.connect() as connection:
        rows = connection.execute(select(notified_matches.c.company, notified_matches.c.target))
        return [(str(c), str(t)) for c, t in rows]


class WritesTheProfileTwice(MatchingUnitOfWork):
    """Inserts the page's profile row a second time right before committing: a real primary-key
    violation raised by the database after the profile, its event and its pending announcement
    were written in this unit of work."""

    page = "programs/p"

    def commit(self) -> None:
        row = self.connection.execute(select(profiles).where(profiles.c.page == self.page)).mappings().first()
        if row is not None:
            self.connection.execute(insert(profiles).values(**row))
        super().commit()


@pytest.fixture
def market(stub: Stub, world: PageWorld, token: TokenFactory) -> dict[str, tuple[tuple[str, str], ...]]:
    """acme (fintech) has a profile; programs/p exists but has none yet (it will want fintech: 100)."""
    world.add("companies/acme", owner="alice", display_name="Acme")
    world.add("programs/p", owner="pat", display_name="Partner Program")
    auth = {"alice": bearer(token("alice")), "pat": bearer(token("pat", roles=("program",)))}
    set_profile(stub, "companies/acme", auth["alice"], crit(IND, "fintech"))
    return auth


@pytest.fixture
def failing_app(service: MatchingService, settings: MatchingSettings) -> Iterator[Callable[[], object]]:
    """The use cases on the service's database with the failing unit of work; returns the change to try."""
    channels = ChannelFactory()
    targets = {k: settings.company_target for k in PageKind}
    directory = GrpcPageDirectory(channels, targets, InMemoryCache(), 0.0)
    app = build_app(settings, service.engine, directory, uow=lambda: WritesTheProfileTwice(service.engine))
    change = CriteriaProfile(PageName(PageKind.PROGRAM, "p"), {Dimension.INDUSTRY: Criteria(("fintech",))})
    pat = Principal("pat", frozenset({"program"}))
    yield lambda: app.profiles.update(pat, change, {"criteria"})
    channels.close()


def test_a_change_failing_after_its_writes_leaves_neither_profile_nor_announcement_and_replays_announce_once(
    service: MatchingService,
    stub: Stub,
    market: dict[str, tuple[tuple[str, str], ...]],
    failing_app: Callable[[], object],
) -> None:
    assert _pending(service) == [] and _events(service, MATCH_FOUND) == 0
    profile_events = _events(service, PROFILE_UPDATED)
    with pytest.raises(IntegrityError):
        failing_app()
    # Rolled back together: no profile, no CriteriaProfileUpdated, no pending round, nothing announced.
    with MatchingUnitOfWork(service.engine) as uow:
        assert uow.profiles.get("programs/p") is None
    assert _pending(service) == []
    assert _events(service, PROFILE_UPDATED) == profile_events
    assert (_events(service, MATCH_FOUND), _notified(service)) == (0, [])
    # The client retries (through the real API): the change commits and the pair is announced once ...
    set_profile(stub, "programs/p", market["pat"], crit(IND, "fintech"))
    assert _events(service, MATCH_FOUND) == 1 and _notified(service) == [("companies/acme", "programs/p")]
    # ... and replaying the same change, from either side, or draining again, announces nothing more.
    set_profile(stub, "programs/p", market["pat"], crit(IND, "fintech"))
    set_profile(stub, "companies/acme", market["alice"], crit(IND, "fintech"))
    assert service.app.announcer.drain() == 0
    assert _events(service, MATCH_FOUND) == 1 and _pending(service) == []


def test_a_crash_after_the_commit_leaves_the_round_pending_and_the_job_announces_it_once(
    service: MatchingService,
    settings: MatchingSettings,
    stub: Stub,
    market: dict[str, tuple[tuple[str, str], ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The process "dies" between the commit of the change and its announcements.
    monkeypatch.setattr(service.app.announcer, "after_change", lambda page: 0)
    set_profile(stub, "programs/p", market["pat"], crit(IND, "fintech"))
    assert _events(service, MATCH_FOUND) == 0
    assert _pending(service) == ["programs/p"]
    # A restarted replica's job drains the debt: the pair is announced exactly once.
    restarted = start_matching(settings.model_copy(update={"announcement_drain_interval_seconds": 0.2}))
    try:
        assert wait_for(lambda: _pending(service) == [])
        assert _events(service, MATCH_FOUND) == 1
        assert service.app.announcer.drain() == 0  # nothing left, nothing twice
        set_profile(stub, "programs/p", market["pat"], crit(IND, "fintech"))  # a replay is drained later ...
        assert wait_for(lambda: _pending(service) == [])
        assert _events(service, MATCH_FOUND) == 1  # ... and announces nothing new
    finally:
        restarted.stop(grace=0)


def test_check_blocked_cache_ttl_comes_from_the_settings(settings: MatchingSettings, token: TokenFactory) -> None:
    running = start_matching(settings.model_copy(update={"check_blocked_cache_ttl_seconds": 7}))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            answer = Stub(channel).CheckBlocked(
                pb.CheckBlockedRequest(page_a="companies/a", page_b="programs/b"),
                metadata=bearer(token("svc-billing", roles=("service",))),
            )
        assert (answer.blocked, answer.cache_ttl_seconds) == (False, 7)
    finally:
        running.stop(grace=0)


def test_a_pair_opened_by_a_status_change_alone_is_announced_once_by_the_refresh(
    service: MatchingService, stub: Stub, world: PageWorld, market: dict[str, tuple[tuple[str, str], ...]]
) -> None:
    # The program sets its profile while inactive (say, still a draft): the gates keep the pair out.
    world.pages["programs/p"].active = False
    set_profile(stub, "programs/p", market["pat"], crit(IND, "fintech"))
    assert _events(service, MATCH_FOUND) == 0 and _notified(service) == []
    # It is published later: no profile changes, only its status. The refresh announces the pair ...
    world.pages["programs/p"].active = True
    assert service.app.refresher.run() >= 1
    assert _notified(service) == [("companies/acme", "programs/p")]
    assert _events(service, MATCH_FOUND) == 1 and _pending(service) == []
    # ... once: another refresh (nothing changed) or a flap of the status announces nothing more.
    assert service.app.refresher.run() == 0
    world.pages["programs/p"].active = False
    service.app.refresher.run()
    world.pages["programs/p"].active = True
    service.app.refresher.run()
    assert _events(service, MATCH_FOUND) == 1 and _pending(service) == []

"""`devinsider-matching-sync-pages` on PostgreSQL, beside a running service: profiles stored before
migration 0004 (the page's values in them, no facts in their pages' statuses) score their own values
until the command reads the pages; then the page wins, the stored profiles keep matching's own values
only, and the running replica's index follows through the change log. A page its service no longer
returns keeps its profile and is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.clock import utc_now
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.testing.polling import wait_for
from devinsider_common.testing.tokens import CallerFactory
from matching_service.bootstrap import MatchingService
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import Criteria, CriteriaProfile
from matching_service.domain.taxonomy import Dimension
from matching_service.entrypoints import sync_pages
from matching_service.service_layer.unit_of_work import SqlMatchingUnitOfWork
from matching_service.settings import MatchingSettings

from ..conftest import PageWorld
from ..protos import Stub, set_profile

ACME, GONE = PageName(PageKind.COMPANY, "acme"), PageName(PageKind.COMPANY, "gone")
SEED = {Dimension.FUNDING_STAGE: Criteria(("seed",))}  # matching's own: the page does not hold it


@pytest.fixture
def command_environment(monkeypatch: pytest.MonkeyPatch, settings: MatchingSettings, tmp_path: Path) -> None:
    """The command's environment points at the service's database, schema and page services; its logging
    configuration is skipped (it would rebind the test process's logging)."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DATABASE_SCHEMA", settings.schema_name)
    for target in ("COMPANY_TARGET", "INVESTOR_TARGET", "PROGRAM_TARGET"):
        monkeypatch.setenv(target, settings.company_target)
    monkeypatch.setenv("AUTH_DEV_KEY_DIR", str(tmp_path / "command-keys"))
    monkeypatch.setattr(sync_pages, "configure_logging", lambda *args: None)


def stored_before_0004(service: MatchingService, page: PageName) -> None:
    """A profile holding the page's industries, and a status without facts, as the previous release left them."""
    now = utc_now()
    profile = CriteriaProfile(page, {Dimension.INDUSTRY: Criteria(("fintech",))} | SEED, None, None, 1, now)
    with SqlMatchingUnitOfWork(service.engine) as uow:
        uow.profiles.save(profile, exists=False)
        uow.statuses.save(PageStatus(page, True, True, True, display_name=page.id, facts=None), now, now)
        uow.changes.record([page.name], now)
        uow.commit()


def test_the_command_brings_the_pages_facts_and_the_page_wins(
    service: MatchingService,
    stub: Stub,
    world: PageWorld,
    callers: CallerFactory,
    command_environment: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pat = callers("pat", ("program",)).metadata
    world.add("programs/p", owner="pat", facts={"industries": ["fintech"]})
    set_profile(stub, "programs/p", pat)
    world.add(ACME.name, owner="alice", facts={"industries": ["edtech"]})  # what acme's page says now
    stored_before_0004(service, ACME)
    stored_before_0004(service, GONE)  # its page is gone from its service

    def listed() -> dict[str, float]:
        matches = stub.ListProgramMatches(pb.ListProgramMatchesRequest(parent="programs/p"), metadata=pat).matches
        return {m.summary.page.name: m.score for m in matches}

    assert wait_for(lambda: listed() == {ACME.name: 100.0, GONE.name: 100.0})  # no score changed at the upgrade

    sync_pages.main([])

    assert capsys.readouterr().out.splitlines()[-2:] == [
        "pages changed: 2",  # acme's facts; gone: inactive
        "pages without facts (their profiles keep their own values): companies/gone",
    ]
    with SqlMatchingUnitOfWork(service.engine) as uow:
        profiles = uow.profiles.get_many([ACME.name, GONE.name])
    assert profiles[ACME.name].criteria == SEED  # the page's values are the page's now
    assert Dimension.INDUSTRY in profiles[GONE.name].criteria
    assert wait_for(lambda: listed() == {})  # the running replica follows: acme is edtech, gone inactive

"""MatchFound: owed atomically with the change that causes it, announced once per pair, drained by the
job when the change's own drain did not run; and the status refresh that can open a pair alone."""

from __future__ import annotations

from typing import Any

import pytest

from devinsider_common.unit_of_work import DuplicateRecord
from matching_service.service_layer import announcer

from ..fakes import FakeMatchingUnitOfWork, World, matching_settings
from .helpers import ALICE, IND, PAT, set_profile


def arranged(matching: World) -> None:
    """acme (fintech) has a profile; programs/p exists but has none yet (it will want fintech: 100)."""
    matching.pages.add("companies/acme", owner="alice", display_name="Acme")
    matching.pages.add("programs/p", owner="pat", display_name="Partner Program")
    set_profile(matching, ALICE, "companies/acme", {IND: ("fintech",)})


def found(matching: World) -> list[tuple[Any, ...]]:
    return [args for _, args in matching.store.events("match_found")]


def pending(matching: World) -> list[str]:
    with matching.read() as uow:
        return uow.announcements.pages()


class FailsAtCommit(FakeMatchingUnitOfWork):
    """A unit of work whose commit meets a twin after the change, its event and its debt were written."""

    def commit(self) -> None:
        raise DuplicateRecord("profiles_pkey")


def test_a_significant_pair_is_announced_once_with_both_summaries(matching: World) -> None:
    arranged(matching)
    assert found(matching) == [] and pending(matching) == []
    set_profile(matching, PAT, "programs/p", {IND: ("fintech",)})
    [(company, target, score, company_status, target_status)] = found(matching)
    assert (company.name, target.name, score) == ("companies/acme", "programs/p", 100.0)
    assert (company_status.display_name, target_status.display_name) == ("Acme", "Partner Program")
    assert pending(matching) == []
    # Below the threshold nothing is announced; back above it, the pair was already announced.
    set_profile(matching, PAT, "programs/p", {IND: ("fintech", "retail")})
    set_profile(matching, PAT, "programs/p", {IND: ("fintech",)})
    set_profile(matching, ALICE, "companies/acme", {IND: ("fintech",)})  # from the other side too
    assert len(found(matching)) == 1 and matching.app.announcer.drain() == 0


def test_a_change_failing_at_its_commit_leaves_nothing_and_its_retry_announces_once(matching: World) -> None:
    arranged(matching)
    events = len(matching.store.events())
    failing = World(
        store=matching.store, pages=matching.pages, uow=lambda read_only=False: FailsAtCommit(matching.store)
    )
    with pytest.raises(DuplicateRecord):
        set_profile(failing, PAT, "programs/p", {IND: ("fintech",)})
    with matching.read() as uow:
        assert uow.profiles.get("programs/p") is None
    assert pending(matching) == [] and len(matching.store.events()) == events
    set_profile(matching, PAT, "programs/p", {IND: ("fintech",)})  # the client retries
    assert len(found(matching)) == 1
    set_profile(matching, PAT, "programs/p", {IND: ("fintech",)})
    assert len(found(matching)) == 1 and pending(matching) == []


def test_a_round_its_change_did_not_drain_is_drained_later_once(
    matching: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    arranged(matching)
    monkeypatch.setattr(matching.app.announcer, "after_change", lambda page: 0)  # the process "died" here
    set_profile(matching, PAT, "programs/p", {IND: ("fintech",)})
    assert found(matching) == [] and pending(matching) == ["programs/p"]
    assert matching.app.announcer.drain() == 1  # the announcement job
    assert matching.app.announcer.drain() == 0 and pending(matching) == [] and len(found(matching)) == 1


def test_a_failing_drain_keeps_the_change_and_its_debt(matching: World, monkeypatch: pytest.MonkeyPatch) -> None:
    arranged(matching)

    def broken(page: object = None) -> int:
        raise RuntimeError("the broker of the moment is down")

    monkeypatch.setattr(matching.app.announcer, "drain", broken)
    saved = set_profile(matching, PAT, "programs/p", {IND: ("fintech",)})  # succeeds all the same
    assert saved.criteria and pending(matching) == ["programs/p"]
    monkeypatch.undo()
    assert matching.app.announcer.drain() == 1


def test_announcements_are_capped_per_change_and_drained_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(announcer, "BATCH", 4)
    matching = World(settings=matching_settings(max_match_announcements=3))
    matching.pages.add("companies/acme", owner="alice")
    matching.app.announcer.after_change = lambda page: 0  # type: ignore[method-assign]
    for i in range(9):  # more pending rounds than two batches
        matching.pages.add(f"programs/p{i}", owner="pat")
        set_profile(matching, PAT, f"programs/p{i}", {IND: ("fintech",)})
    assert len(pending(matching)) == 9
    assert matching.app.announcer.drain() == 0 and pending(matching) == []  # acme has no profile yet: no pair
    del matching.app.announcer.after_change
    set_profile(matching, ALICE, "companies/acme", {IND: ("fintech",)})
    assert len(found(matching)) == 3  # the best three of nine, for one change


def test_a_pair_opened_by_a_status_change_alone_is_announced_once_by_the_refresh(matching: World) -> None:
    arranged(matching)
    matching.pages.update("programs/p", active=False)  # still a draft: the gates keep the pair out
    set_profile(matching, PAT, "programs/p", {IND: ("fintech",)})
    assert found(matching) == []
    matching.pages.update("programs/p", active=True)  # published later: only its status changed
    assert matching.app.refresher.run() == 1
    assert len(found(matching)) == 1 and pending(matching) == []
    assert matching.app.refresher.run() == 0  # nothing changed
    matching.pages.update("programs/p", active=False)
    matching.app.refresher.run()
    matching.pages.update("programs/p", active=True)
    matching.app.refresher.run()
    assert len(found(matching)) == 1 and pending(matching) == []


def test_a_page_its_service_no_longer_returns_turns_inactive_with_its_summary_kept(
    matching: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    arranged(matching)
    set_profile(matching, PAT, "programs/p", {IND: ("fintech",)})
    del matching.pages.pages["programs/p"]

    def broken(page: object = None) -> int:
        raise RuntimeError("drain failed")

    monkeypatch.setattr(matching.app.announcer, "drain", broken)
    assert matching.app.refresher.run() == 1  # the failed drain is left to the job
    with matching.read() as uow:
        status = uow.statuses.get_many(["programs/p"])["programs/p"]
        assert (status.active, status.display_name) == (False, "Partner Program")
        assert uow.announcements.pages() == ["programs/p"]

"""Republishing every unlock (`UnlockReplay`): once each, in id order, batch by batch, each with the
balance its own spend left."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing_service.domain.unlocks import Unlock
from billing_service.service_layer.unlock_replay import UnlockReplay
from devinsider_common.pages.names import PageKind, PageName

from ..fakes import FakeBillingUnitOfWork
from ..harness import ACME, PROGRAM, Billing, new_billing

ISV = PageName(PageKind.COMPANY, "isv-1")
ISV2 = PageName(PageKind.COMPANY, "isv-2")
ISV3 = PageName(PageKind.COMPANY, "isv-3")
VC = PageName(PageKind.INVESTOR, "vc")
VC2 = PageName(PageKind.INVESTOR, "vc-2")


@pytest.fixture
def billing() -> Billing:
    """Prices that differ per pair, so that each balance tells whose spend it follows."""
    return new_billing(unlock_costs={"program:company": 2, "company:investor": 3})


def unlocks_by_two_pages(billing: Billing) -> list[tuple[Unlock, int]]:
    """Five unlocks, the two spenders' interleaved, each with the balance right after it; credits
    granted after them change no replayed balance."""
    program = billing.member(PROGRAM, "kc-program")
    company = billing.member(ACME, "kc-acme")
    billing.grant(PROGRAM, 10)
    billing.grant(ACME, 10)
    made = [
        (billing.unlock(program, ISV, "p1"), 8),
        (billing.unlock(company, VC, "a1", page=ACME), 7),
        (billing.unlock(program, ISV2, "p2"), 6),
        (billing.unlock(program, ISV3, "p3"), 4),
        (billing.unlock(company, VC2, "a2", page=ACME), 4),
    ]
    billing.grant(PROGRAM, 5)
    billing.grant(ACME, 5)
    return made


def replayed(billing: Billing, before: int) -> list[tuple[Unlock, int]]:
    """The `unlock_created` events committed after the first `before` ones, as (unlock, balance)."""
    return [(event.args[0], event.args[1]) for event in billing.published("unlock_created")[before:]]


@pytest.mark.parametrize("batch_size", [1, 2, 5, 500])
def test_every_unlock_is_republished_once_in_id_order_with_the_balance_its_spend_left(
    billing: Billing, batch_size: int
) -> None:
    made = unlocks_by_two_pages(billing)
    assert [u.id for u, _ in made] == sorted(u.id for u, _ in made)  # made in id order (ordered_ids)
    count = UnlockReplay(billing.unit_of_work).republish_unlocks(batch_size)
    assert count == 5
    again = replayed(billing, 5)
    assert again == made  # the unlock as stored (unlocker, target, name...) and the balance after its spend
    assert [(u.page, u.target) for u, _ in again] == [
        (PROGRAM, ISV),
        (ACME, VC),
        (PROGRAM, ISV2),
        (PROGRAM, ISV3),
        (ACME, VC2),
    ]
    assert billing.published("unlock_created")[:5] == billing.published("unlock_created")[5:]  # as first published


def test_each_batch_commits_on_its_own(billing: Billing, monkeypatch: pytest.MonkeyPatch) -> None:
    unlocks_by_two_pages(billing)
    units: list[FakeBillingUnitOfWork] = []

    def broken(*args: object) -> None:
        raise RuntimeError("database gone")

    class LedgerGone(FakeBillingUnitOfWork):
        def _open_repositories(self) -> None:
            super()._open_repositories()
            monkeypatch.setattr(self.ledger, "get", broken)

    def failing_on_the_third(read_only: bool = False) -> FakeBillingUnitOfWork:
        units.append(LedgerGone(billing.store, read_only) if len(units) == 2 else billing.unit_of_work(read_only))
        return units[-1]

    with pytest.raises(RuntimeError, match="database gone"):
        UnlockReplay(failing_on_the_third).republish_unlocks(2)
    assert len(replayed(billing, 5)) == 4  # the two batches before the failure stay committed


@pytest.mark.parametrize(("batch_size", "reads"), [(2, 3), (5, 2), (6, 1)])
def test_the_walk_ends_at_the_first_short_batch(billing: Billing, batch_size: int, reads: int) -> None:
    unlocks_by_two_pages(billing)  # five
    units: list[FakeBillingUnitOfWork] = []

    def counted(read_only: bool = False) -> FakeBillingUnitOfWork:
        units.append(billing.unit_of_work(read_only))
        return units[-1]

    assert UnlockReplay(counted).republish_unlocks(batch_size) == 5
    assert len(units) == reads


def test_an_empty_table_republishes_nothing(billing: Billing) -> None:
    assert UnlockReplay(billing.unit_of_work).republish_unlocks(2) == 0
    assert billing.published() == []


def test_an_unlock_whose_ledger_entry_is_missing_is_republished_with_a_balance_of_0(billing: Billing) -> None:
    orphan = Unlock("0000-orphan", PROGRAM, ISV, 2, "no-such-entry", "kc", datetime(2026, 1, 1, tzinfo=UTC))
    with billing.unit_of_work() as uow:
        uow.unlocks.add(orphan)
        uow.commit()
    assert UnlockReplay(billing.unit_of_work).republish_unlocks(10) == 1
    assert replayed(billing, 0) == [(orphan, 0)]


@pytest.mark.parametrize("batch_size", [0, -1])
def test_a_batch_size_below_1_is_refused(billing: Billing, batch_size: int) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        UnlockReplay(billing.unit_of_work).republish_unlocks(batch_size)

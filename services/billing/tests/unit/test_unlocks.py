"""Unlocks: credits spent once per target, refused for own, blocked, unknown or inactive pages;
HasUnlocked by page or by member."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from billing_service.domain.ledger import LedgerEntryKind
from billing_service.domain.unlocks import TargetState
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import failure
from devinsider_common.unit_of_work import ConstraintViolation

from ..harness import PROGRAM, STAFF, Billing, new_billing

ISV = PageName(PageKind.COMPANY, "isv-1")
VC = PageName(PageKind.INVESTOR, "vc")


def test_an_unlock_spends_the_configured_cost_once_and_never_expires(billing: Billing, spender: Principal) -> None:
    billing.grant(PROGRAM, 3)
    first = billing.unlock(spender, ISV, "r1")
    assert (first.cost, first.target, first.creator, first.request_id) == (1, ISV, "kc-spender", "r1")
    assert billing.balance(PROGRAM) == 2
    assert billing.unlock(spender, ISV, "r1") == first  # same request id
    assert billing.unlock(spender, ISV, "r2") == first  # same target, other request id: costs nothing
    assert billing.balance(PROGRAM) == 2
    assert billing.app.unlocks.get(spender, PROGRAM, first.id) == first
    [entry], _ = billing.app.ledger.list_ledger_entries(STAFF, PROGRAM, 0, "", LedgerEntryKind.SPEND)
    assert (entry.id, entry.credits, entry.balance_after, entry.reference) == (first.ledger_entry_id, -1, 2, first.name)
    assert (entry.description, entry.creator) == (f"unlock of {ISV.name}", "kc-spender")
    [created] = billing.published("unlock_created")
    assert created.args == (first, 2)


def test_prices_come_from_the_configuration() -> None:
    billing = new_billing(unlock_costs={"program:company": 3})
    spender = billing.member(PROGRAM, "kc-spender", PageRole.ADMIN)
    billing.grant(PROGRAM, 5)
    assert billing.unlock(spender, ISV, "r1").cost == 3 and billing.balance(PROGRAM) == 2


def test_a_request_id_reused_for_another_target_is_invalid(billing: Billing, spender: Principal) -> None:
    billing.grant(PROGRAM, 3)
    billing.unlock(spender, ISV, "r1")
    refused = failure(lambda: billing.unlock(spender, PageName(PageKind.COMPANY, "other"), "r1"))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["request_id"])
    assert failure(lambda: billing.unlock(spender, ISV, "")).fields == ["request_id"]
    assert billing.balance(PROGRAM) == 2


def test_without_enough_credits_nothing_is_spent(billing: Billing, spender: Principal) -> None:
    refused = failure(lambda: billing.unlock(spender, ISV, "r1"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_CREDITS")
    assert billing.balance(PROGRAM) == 0
    assert billing.app.unlocks.list_unlocks(spender, PROGRAM, 0, "", None) == ([], "")
    assert billing.published() == []


@pytest.mark.parametrize(
    ("target", "arrange", "reason"),
    [
        (
            "companies/mine",
            lambda b: b.access.add_member(PageName(PageKind.COMPANY, "mine"), "kc-spender", PageRole.VIEWER),
            "OWN_PAGE",
        ),
        ("companies/foe", lambda b: b.blocks.block(PROGRAM, PageName(PageKind.COMPANY, "foe")), "BLOCKED"),
        ("investors/vc", lambda b: None, "UNLOCK_NOT_OFFERED"),
        ("programs/p1", lambda b: None, "OWN_PAGE"),  # a page cannot unlock itself
        (
            "companies/pending",
            lambda b: b.states.states.update({"companies/pending": TargetState.INACTIVE}),
            "UNLOCK_TARGET_INACTIVE",
        ),
    ],
)
def test_own_blocked_inactive_pages_and_pairs_not_offered_are_refused(
    billing: Billing, spender: Principal, target: str, arrange: Callable[[Billing], object], reason: str
) -> None:
    billing.grant(PROGRAM, 5)
    arrange(billing)
    refused = failure(lambda: billing.unlock(spender, parse_page(target, "target"), "a"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, reason)
    assert billing.balance(PROGRAM) == 5
    assert billing.app.unlocks.list_unlocks(spender, PROGRAM, 0, "", None) == ([], "")


def test_pages_that_do_not_exist_are_not_found_and_nothing_is_recorded(billing: Billing, spender: Principal) -> None:
    billing.grant(PROGRAM, 5)
    ghost = PageName(PageKind.COMPANY, "ghost")
    billing.states.states[ghost.name] = None
    refused = failure(lambda: billing.unlock(spender, ghost, "g"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "UNLOCK_TARGET_NOT_FOUND")
    assert billing.balance(PROGRAM) == 5
    assert [k for k, _, _ in billing.entries(PROGRAM)] == [LedgerEntryKind.GRANT]
    assert billing.published("unlock_created") == []


def test_an_unlock_bought_before_its_target_was_deleted_is_still_answered(billing: Billing, spender: Principal) -> None:
    billing.grant(PROGRAM, 5)
    first = billing.unlock(spender, ISV, "r1")
    assert billing.states.asked == [ISV.name]
    billing.states.states[ISV.name] = None
    assert billing.unlock(spender, ISV, "r1") == first  # a retry of the same call
    assert billing.unlock(spender, ISV, "r2") == first  # the same target again
    assert billing.states.asked == [ISV.name]  # replays never ask: they spend nothing
    assert billing.balance(PROGRAM) == 4


def test_an_unlock_that_lost_a_race_answers_the_winner(billing: Billing, spender: Principal) -> None:
    billing.grant(PROGRAM, 5)
    winner = billing.unlock(spender, ISV, "r1")
    # Both calls passed the first check; ours held the balance after the winner committed but read
    # before it (a stale read): the unique pair stops the second spend.
    unseen = {("unlocks", "by_request"), ("unlocks", "by_target")}
    billing.stale_reads += [unseen, unseen]  # the first check, then the one under the held balance
    assert billing.unlock(spender, ISV, "r2") == winner
    assert billing.stale_reads == []  # both stale reads happened: the answer came after the violation
    assert billing.balance(PROGRAM) == 4


def test_a_constraint_with_nothing_to_answer_is_an_error(billing: Billing, spender: Principal) -> None:
    billing.grant(PROGRAM, 5)
    billing.unlock(spender, ISV, "r1")
    unseen = {("unlocks", "by_request"), ("unlocks", "by_target")}
    billing.stale_reads += [unseen, unseen, unseen]
    with pytest.raises(ConstraintViolation):
        billing.unlock(spender, ISV, "r2")
    assert billing.balance(PROGRAM) == 4


def test_has_unlocked_answers_by_page_or_by_member(billing: Billing, spender: Principal) -> None:
    billing.grant(PROGRAM, 2)
    billing.unlock(spender, ISV, "r1")
    assert billing.app.unlocks.has_unlocked(ISV, unlocker=PROGRAM) == [PROGRAM.name]
    assert billing.app.unlocks.has_unlocked(ISV, unlocker=PageName(PageKind.PROGRAM, "p2")) == []
    billing.access.add_member(PROGRAM, "kc-colleague", PageRole.VIEWER)
    assert billing.app.unlocks.has_unlocked(ISV, subject="kc-colleague") == [PROGRAM.name]
    assert billing.app.unlocks.has_unlocked(ISV, subject="kc-stranger") == []
    assert billing.app.unlocks.has_unlocked(VC, subject="kc-colleague") == []


def test_unlocks_list_newest_first_in_windows(billing: Billing, spender: Principal) -> None:
    billing.grant(PROGRAM, 5)
    made = [billing.unlock(spender, PageName(PageKind.COMPANY, f"c{i}"), f"r{i}").id for i in range(5)]
    seen: list[str] = []
    token = ""
    while True:
        window, token = billing.app.unlocks.list_unlocks(spender, PROGRAM, 2, token, None)
        assert len(window) <= 2
        seen += [u.id for u in window]
        if not token:
            break
    assert seen == made[::-1]
    assert billing.app.unlocks.list_unlocks(spender, PROGRAM, 0, "", PageKind.INVESTOR) == ([], "")
    companies, _ = billing.app.unlocks.list_unlocks(spender, PROGRAM, 0, "", PageKind.COMPANY)
    assert len(companies) == 5
    assert failure(lambda: billing.app.unlocks.get(spender, PROGRAM, "missing")).code == grpc.StatusCode.NOT_FOUND

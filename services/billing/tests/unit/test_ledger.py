"""The ledger: staff grants and refunds (idempotent, validated), balance, history, expiry."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import grpc
import pytest

from billing_service.domain.ledger import LedgerEntryKind
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.testing.failures import Failure, failure

from ..harness import ACME, NOW, SERVICE, STAFF, Billing

GRANT, SPEND, REFUND, EXPIRE = (
    LedgerEntryKind.GRANT,
    LedgerEntryKind.SPEND,
    LedgerEntryKind.REFUND,
    LedgerEntryKind.EXPIRE,
)
VC = PageName(PageKind.INVESTOR, "vc")


def test_staff_grants_and_refunds_are_idempotent(billing: Billing, owner: Principal) -> None:
    first = billing.app.ledger.create(STAFF, ACME, REFUND, 2, "goodwill", None, "refund-1")
    assert (first.kind, first.credits, first.balance_after, first.creator) == (REFUND, 2, 2, "kc-staff")
    assert (first.description, first.reference, first.request_id) == ("goodwill", ACME.name, "refund-1")
    assert billing.app.ledger.create(STAFF, ACME, REFUND, 2, "goodwill", None, "refund-1") == first
    by_service = billing.app.ledger.create(SERVICE, ACME, GRANT, 3, "", None, "crm-1")
    assert (by_service.description, by_service.creator, by_service.balance_after) == ("grant", "service-crm", 5)
    assert billing.balance(ACME) == 5
    assert [e.args[0] for e in billing.published("credits_granted")] == [first, by_service]
    refused = failure(lambda: billing.app.ledger.create(owner, ACME, GRANT, 1, "", None, "mine"))
    assert (refused.code, refused.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "STAFF_ONLY",
    )  # owners print no credits
    assert billing.balance(ACME) == 5


@pytest.mark.parametrize(
    ("kind", "credits", "description", "expire_in", "request_id", "field"),
    [
        (SPEND, 1, "", None, "r", "ledger_entry.kind"),
        (EXPIRE, 1, "", None, "r", "ledger_entry.kind"),
        (GRANT, -5, "", None, "r", "ledger_entry.credits"),
        (GRANT, 0, "", None, "r", "ledger_entry.credits"),
        (GRANT, 10**9, "", None, "r", "ledger_entry.credits"),
        (GRANT, 1, "", None, "", "request_id"),
        (GRANT, 1, "", timedelta(days=-1), "r", "ledger_entry.expire_time"),
        (REFUND, 1, "", timedelta(days=1), "r", "ledger_entry.expire_time"),  # only grants expire
        (GRANT, 1, "x" * 501, None, "r", "ledger_entry.description"),
    ],
)
def test_bad_ledger_entries_name_the_field_and_change_nothing(
    billing: Billing,
    kind: LedgerEntryKind,
    credits: int,
    description: str,
    expire_in: timedelta | None,
    request_id: str,
    field: str,
) -> None:
    expire_time = NOW + expire_in if expire_in is not None else None
    refused = failure(
        lambda: billing.app.ledger.create(STAFF, ACME, kind, credits, description, expire_time, request_id)
    )
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [field])
    assert billing.balance(ACME) == 0 and billing.published() == []


def test_granted_credits_expire_and_the_balance_says_so_beforehand(billing: Billing, owner: Principal) -> None:
    promo = billing.grant(ACME, 4, expire_time=NOW + timedelta(days=10))
    billing.grant(ACME, 2)  # never expires
    billing.grant(ACME, 5, expire_time=NOW + timedelta(days=45))  # expires, but not soon
    billing.unlock(owner, VC, "u1", page=ACME)  # spends the credits expiring first
    soon = billing.app.ledger.balance(owner, ACME)
    assert (soon.balance, soon.expiring_soon, soon.updated_at) == (10, 3, NOW)
    [spend], _ = billing.app.ledger.list_ledger_entries(owner, ACME, 0, "", SPEND)
    assert soon.last_entry_id == spend.id
    assert billing.app.jobs.run() == 0
    billing.clock.advance(days=11)
    assert billing.app.jobs.run() == 1
    [expired], _ = billing.app.ledger.list_ledger_entries(owner, ACME, 0, "", EXPIRE)
    assert (expired.credits, expired.balance_after, expired.creator) == (-3, 7, "billing")
    assert expired.reference == f"{ACME.name}/ledgerEntries/{promo.id}"
    assert billing.balance(ACME) == 7
    assert billing.app.jobs.run() == 0  # expired once
    billing.clock.advance(days=40)
    assert billing.app.jobs.run() == 1 and billing.balance(ACME) == 2


def test_expired_credits_can_no_longer_be_spent_even_before_the_job_runs(billing: Billing, owner: Principal) -> None:
    billing.grant(ACME, 1, expire_time=NOW + timedelta(days=1))
    billing.clock.advance(days=2)
    refused = failure(lambda: billing.unlock(owner, VC, "u1", page=ACME))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_CREDITS")


def test_the_balance_of_a_page_never_seen_is_zero_and_reading_it_writes_nothing(billing: Billing) -> None:
    commits = billing.store.commits
    balance = billing.app.ledger.balance(STAFF, ACME)
    assert (balance.balance, balance.expiring_soon, balance.last_entry_id, balance.updated_at) == (0, 0, "", None)
    assert billing.store.commits == commits


def test_ledger_history_comes_newest_first_in_windows(billing: Billing, owner: Principal) -> None:
    for _ in range(5):
        billing.grant(ACME, 1)
    seen: list[int] = []
    token = ""
    while True:
        window, token = billing.app.ledger.list_ledger_entries(owner, ACME, 2, token, None)
        seen += [e.balance_after for e in window]
        if not token:
            break
    assert seen == [5, 4, 3, 2, 1]
    _, first_token = billing.app.ledger.list_ledger_entries(owner, ACME, 2, "", None)
    other_filters = failure(lambda: billing.app.ledger.list_ledger_entries(owner, ACME, 2, first_token, SPEND))
    assert other_filters == Failure(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["page_token"])
    other_page = failure(
        lambda: billing.app.ledger.list_ledger_entries(STAFF, PageName(PageKind.COMPANY, "x"), 2, first_token, None)
    )
    assert other_page.fields == ["page_token"]
    assert billing.app.ledger.list_ledger_entries(owner, ACME, 0, "", SPEND) == ([], "")


def test_a_grant_that_lost_a_race_for_its_request_id_answers_the_winner(billing: Billing) -> None:
    winner = billing.app.ledger.create(STAFF, ACME, GRANT, 3, "", None, "raced")
    billing.stale_reads.append({("ledger", "by_request")})  # the twin committed after our check
    assert billing.app.ledger.create(STAFF, ACME, GRANT, 3, "", None, "raced") == winner
    assert billing.balance(ACME) == 3


def test_a_grant_whose_twin_cannot_be_read_yet_asks_for_a_retry(billing: Billing) -> None:
    billing.app.ledger.create(STAFF, ACME, GRANT, 3, "", None, "raced")
    billing.stale_reads += [{("ledger", "by_request")}, {("ledger", "by_request")}]
    refused = failure(lambda: billing.app.ledger.create(STAFF, ACME, GRANT, 3, "", None, "raced"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.ABORTED, "CONCURRENT_WRITE")
    assert billing.balance(ACME) == 3


def test_expiry_never_takes_the_balance_below_zero(billing: Billing) -> None:
    """Lots that say more is left than the balance holds (a row fixed by hand): only the balance goes."""
    billing.grant(ACME, 2, expire_time=NOW + timedelta(days=1))
    balances = billing.store.tables["credit_balances"]
    balances[ACME.name] = replace(balances[ACME.name], balance=0)
    billing.clock.advance(days=2)
    assert billing.app.jobs.run() == 0  # nothing to withdraw: no entry written
    assert billing.balance(ACME) == 0 and [k for k, _, _ in billing.entries(ACME)] == [GRANT]
    assert billing.app.jobs.run() == 0  # and the lot is closed

"""The contract of billing's unit of work and stores, with the same assertions on the in-memory
fake (`tests/fakes.py`, what the use-case tests run on) and on the SQL unit of work on PostgreSQL
and SQLite: orderings, keyset windows, unique keys and checks, commit and rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from billing_service.bootstrap import MIGRATIONS
from billing_service.domain.checkouts import Checkout, CheckoutState
from billing_service.domain.invoices import InvoiceLine, InvoiceState, paid_invoice
from billing_service.domain.ledger import Balance, LedgerEntry, LedgerEntryKind, Lot
from billing_service.domain.money import Money
from billing_service.domain.plan_changes import ChangeKind, PlanChange
from billing_service.domain.plans import PlanKind, plan_position
from billing_service.domain.subscriptions import Subscription, SubscriptionState
from billing_service.domain.unlocks import Unlock
from billing_service.service_layer.ports import BillingUnitOfWork
from billing_service.service_layer.unit_of_work import SqlBillingUnitOfWork
from devinsider_common import errors
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pagination import ListWindow
from devinsider_common.testing.fixtures import migrated_engine
from devinsider_common.unit_of_work import ConstraintViolation, DuplicateRecord

from ..fakes import CATALOGUE, FakeBillingUnitOfWork, seeded_store

UowFactory = Callable[[], BillingUnitOfWork]
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
ACME = PageName(PageKind.COMPANY, "acme")
OTHER = PageName(PageKind.COMPANY, "other")
EUR = Money("EUR", 9900)


def ident(n: int) -> str:
    """Ids in the order of `n` (as UUIDv7 ids are in the order they are made)."""
    return f"00000000-0000-7000-8000-{n:012d}"


def subscription(n: int, state: SubscriptionState, page: PageName = ACME, ends: datetime = NOW) -> Subscription:
    return Subscription(
        ident(n), page, "isv-pro-monthly", state, EUR, ends - timedelta(days=30), ends, NOW, NOW, f"sub_{n}"
    )


def checkout(n: int, request_id: str | None = None, page: PageName = ACME, expires: datetime = NOW) -> Checkout:
    return Checkout(
        ident(n),
        page,
        "isv-credits-10",
        "https://a/ok",
        "",
        Money("EUR", 5000),
        "kc",
        NOW,
        expires,
        request_id=request_id,
    )


def entry(n: int, credits: int, after: int, page: PageName = ACME, request_id: str | None = None) -> LedgerEntry:
    kind = LedgerEntryKind.GRANT if credits > 0 else LedgerEntryKind.SPEND
    return LedgerEntry(ident(n), page, kind, credits, after, "d", "r", "kc", NOW, request_id=request_id)


def unlock(n: int, target: str, request_id: str | None = None, page: PageName = ACME) -> Unlock:
    kind, _, page_id = target.partition("/")
    target_page = PageName(PageKind.INVESTOR if kind == "investors" else PageKind.PROGRAM, page_id)
    return Unlock(ident(n), page, target_page, 1, ident(900 + n), "kc", NOW, request_id)


class Contract:
    """The assertions; the subclasses give the `uow` factory."""

    def test_the_catalogue_is_the_seeded_one_cheapest_first_in_windows(self, uow: UowFactory) -> None:
        with uow() as u:
            everything = u.plans.list_after(ListWindow(size=100), None, None, True)
            assert everything == sorted(CATALOGUE, key=plan_position)  # the fake's catalogue is the seeded one
            first = u.plans.list_after(ListWindow(size=3), None, None, False)
            assert first == everything[:4]  # one more than the window: there is a next one
            after = u.plans.list_after(ListWindow(size=3, after=plan_position(first[2])), None, None, False)
            assert after == everything[3:7]
            packs = u.plans.list_after(ListWindow(size=10), PageKind.INVESTOR, PlanKind.CREDIT_PACK, False)
            assert [p.id for p in packs] == ["investor-credits-10"]
            assert u.plans.get("isv-pro-yearly") == next(p for p in CATALOGUE if p.id == "isv-pro-yearly")
            assert u.plans.get("nope") is None

    def test_subscriptions(self, uow: UowFactory) -> None:
        ended_old, live = subscription(1, SubscriptionState.CANCELED), subscription(2, SubscriptionState.ACTIVE)
        ended_mid, ended_new = subscription(3, SubscriptionState.EXPIRED), subscription(4, SubscriptionState.CANCELED)
        elsewhere = subscription(5, SubscriptionState.TRIALING, OTHER, ends=NOW + timedelta(days=3))
        with uow() as u:
            for s in (ended_old, live, ended_mid, ended_new, elsewhere):
                u.subscriptions.add(s)
            u.commit()
        with uow() as u:
            assert u.subscriptions.get(ACME, live.id) == live
            assert u.subscriptions.get(OTHER, live.id) is None  # ids are read within their page
            assert u.subscriptions.get_by_id(elsewhere.id, lock=True) == elsewhere
            assert u.subscriptions.by_provider_reference("sub_2", lock=True) == live
            assert u.subscriptions.by_provider_reference("") is None
            assert u.subscriptions.by_provider_reference("sub_9") is None
            listed = u.subscriptions.list_after(ACME, ListWindow(size=10), [])
            assert listed == [live, ended_new, ended_mid, ended_old]  # the live one first, then newest first
            assert u.subscriptions.list_after(ACME, ListWindow(size=2), []) == listed[:3]
            assert u.subscriptions.list_after(ACME, ListWindow(size=2, after=(0, live.id)), []) == listed[1:4]
            assert u.subscriptions.list_after(ACME, ListWindow(size=2, after=(1, ended_new.id)), []) == listed[2:]
            final = [SubscriptionState.CANCELED, SubscriptionState.EXPIRED]
            assert u.subscriptions.list_after(ACME, ListWindow(size=10), final) == listed[1:]
            assert u.subscriptions.due_ids(NOW) == [live.id]  # live ones whose period ended
            assert u.subscriptions.due_ids(NOW + timedelta(days=3)) == [live.id, elsewhere.id]  # oldest end first
            assert u.subscriptions.due_ids(NOW + timedelta(days=3), limit=1) == [live.id]
            assert u.subscriptions.due_ids(NOW - timedelta(seconds=1)) == []
            changed = replace(live, state=SubscriptionState.EXPIRED, end_time=NOW, cancel_reason="r")
            u.subscriptions.save(changed)
            u.subscriptions.add(subscription(6, SubscriptionState.TRIALING))  # live again, once the other ended
            u.commit()
        with uow() as u:
            assert u.subscriptions.get(ACME, live.id) == changed
        for twin in (replace(ended_old, page=OTHER), subscription(7, SubscriptionState.PAST_DUE)):
            with pytest.raises(DuplicateRecord), uow() as u:  # the id; one live subscription per page
                u.subscriptions.add(twin)
                u.commit()
        with pytest.raises(DuplicateRecord), uow() as u:
            u.subscriptions.save(replace(ended_new, state=SubscriptionState.ACTIVE))
            u.commit()

    def test_plan_changes_and_a_scheduled_plan(self, uow: UowFactory) -> None:
        live = subscription(1, SubscriptionState.ACTIVE)
        scheduled = replace(live, scheduled_plan_id="isv-starter-monthly")
        first = PlanChange(
            ident(2), ACME, live.id, "isv-pro-monthly", "isv-starter-monthly", ChangeKind.SCHEDULED, NOW, "kc", NOW
        )
        keyed = replace(first, id=ident(3), kind=ChangeKind.UPGRADE, invoice_id=ident(9), request_id="r1")
        with uow() as u:
            u.subscriptions.add(live)
            u.subscriptions.save(scheduled)
            for change in (first, keyed, replace(keyed, id=ident(4), page=OTHER, subscription_id=ident(5))):
                u.plan_changes.add(change)  # request ids are unique per page; none is no key
            u.commit()
        with uow() as u:
            assert u.subscriptions.get(ACME, live.id) == scheduled
            assert u.plan_changes.by_request(ACME, "r1") == keyed and u.plan_changes.by_request(ACME, "r2") is None
            assert u.plan_changes.of_subscription(live.id) == [first, keyed]
        with pytest.raises(DuplicateRecord), uow() as u:
            u.plan_changes.add(replace(keyed, id=ident(6)))
            u.commit()

    def test_checkouts(self, uow: UowFactory) -> None:
        first, second = checkout(1, "r1"), checkout(2, None, expires=NOW + timedelta(hours=1))
        paid = replace(checkout(3, None), provider_reference="cs_3", state=CheckoutState.COMPLETED)
        with uow() as u:
            for c in (first, second, paid, checkout(4, None, page=OTHER), checkout(5, "r1", page=OTHER)):
                u.checkouts.add(c)  # request ids are unique per page; none is no key
            u.commit()
        with uow() as u:
            assert u.checkouts.get(ACME, first.id) == first and u.checkouts.get(OTHER, first.id) is None
            assert u.checkouts.get_by_id(second.id, lock=True) == second
            assert u.checkouts.by_request(ACME, "r1") == first and u.checkouts.by_request(ACME, "r2") is None
            assert u.checkouts.by_provider_reference("cs_3", lock=True) == paid
            assert u.checkouts.by_provider_reference("") is None
            assert set(u.checkouts.expired_open_ids(NOW)) == {first.id, ident(4), ident(5)}  # open ones only
            closed = first.expired(NOW)
            u.checkouts.save(closed)
            u.commit()
        with uow() as u:
            assert u.checkouts.get(ACME, first.id) == closed
            assert u.checkouts.expired_open_ids(NOW, limit=1) in ([ident(4)], [ident(5)])
        with pytest.raises(DuplicateRecord), uow() as u:
            u.checkouts.add(checkout(6, "r1"))
            u.commit()

    def test_balances_entries_and_lots(self, uow: UowFactory) -> None:
        with uow() as u:
            assert u.ledger.balance(ACME, NOW, NOW) == (Balance(ACME, 0, 0, "", None), 0)
            held = u.ledger.lock_balance(ACME, NOW)
            assert held == Balance(ACME, 0, 0, "", NOW)
            grant = entry(1, 5, 5, request_id="g1")
            u.ledger.append(grant, held)
            u.ledger.add_lot(ACME, Lot(grant.id, 5, NOW + timedelta(days=1)))
            u.commit()
        with uow() as u:
            held = u.ledger.lock_balance(ACME, NOW + timedelta(hours=1))
            assert held == Balance(ACME, 5, 1, grant.id, NOW)
            assert u.ledger.balance(ACME, NOW, NOW)[0] == held
            spend = entry(2, -2, 3)
            u.ledger.append(spend, held)
            u.ledger.save_lots([Lot(grant.id, 3, NOW + timedelta(days=1))])
            with pytest.raises(errors.Conflict):  # the held balance moved on: fenced by its version
                u.ledger.append(entry(3, 4, 9), held)
        with uow() as u:  # ...and nothing of that transaction stays
            assert u.ledger.balance(ACME, NOW, NOW)[0].balance == 5 and u.ledger.get(ACME, spend.id) is None
            held = u.ledger.lock_balance(ACME, NOW)
            with pytest.raises(ValueError, match="does not follow"):
                u.ledger.append(entry(2, -2, 4), held)
            u.ledger.append(entry(2, -2, 3), held)
            u.ledger.add_lot(ACME, Lot(ident(2), 0, None))
            u.ledger.append(second := entry(3, 4, 7, request_id="g2"), replace(held, balance=3, version=2))
            u.ledger.add_lot(ACME, Lot(second.id, 4, NOW + timedelta(days=40)))
            u.commit()
        with uow() as u:
            assert u.ledger.get(ACME, grant.id) == grant and u.ledger.get(OTHER, grant.id) is None
            assert u.ledger.by_request(ACME, "g2") == second and u.ledger.by_request(OTHER, "g2") is None
            newest = u.ledger.list_after(ACME, ListWindow(size=10), None)
            assert [e.id for e in newest] == [ident(3), ident(2), ident(1)]
            assert u.ledger.list_after(ACME, ListWindow(size=1), None) == newest[:2]
            assert u.ledger.list_after(ACME, ListWindow(size=5, after=(ident(3),)), None) == newest[1:]
            assert [e.id for e in u.ledger.list_after(ACME, ListWindow(size=5), LedgerEntryKind.SPEND)] == [ident(2)]
            assert sorted(u.ledger.lots(ACME), key=lambda lot: lot.entry_id) == [
                Lot(grant.id, 5, NOW + timedelta(days=1)),
                Lot(second.id, 4, NOW + timedelta(days=40)),
            ]  # lots with credits left only
            assert u.ledger.lot(ident(2)) == Lot(ident(2), 0, None) and u.ledger.lot("missing") is None
            assert u.ledger.balance(ACME, NOW, NOW + timedelta(days=30))[1] == 5
            assert u.ledger.balance(ACME, NOW, NOW + timedelta(days=40))[1] == 9
            assert u.ledger.balance(ACME, NOW + timedelta(days=1), NOW + timedelta(days=30))[1] == 0
            assert u.ledger.pages_with_expired_lots(NOW) == []
            assert u.ledger.pages_with_expired_lots(NOW + timedelta(days=1)) == [ACME.name]
            u.ledger.save_lots([Lot(grant.id, 0, NOW + timedelta(days=1))])
            assert u.ledger.pages_with_expired_lots(NOW + timedelta(days=2)) == []
        with pytest.raises(DuplicateRecord), uow() as u:  # a request id is used once per page
            held = u.ledger.lock_balance(ACME, NOW)
            u.ledger.append(entry(4, 1, 8, request_id="g2"), held)
        with pytest.raises(ConstraintViolation) as below_zero, uow() as u:  # the schema refuses a negative balance
            held = u.ledger.lock_balance(OTHER, NOW)
            u.ledger.append(entry(5, -1, -1, page=OTHER), held)
        assert not isinstance(below_zero.value, DuplicateRecord)

    def test_unlocks(self, uow: UowFactory) -> None:
        made = [unlock(1, "investors/a", "r1"), unlock(2, "programs/b"), unlock(3, "investors/c", "r3")]
        with uow() as u:
            for item in (*made, unlock(4, "investors/a", "r1", page=OTHER)):
                u.unlocks.add(item)
            u.commit()
        with uow() as u:
            assert u.unlocks.get(ACME, made[0].id) == made[0] and u.unlocks.get(OTHER, made[0].id) is None
            assert u.unlocks.by_request(ACME, "r3") == made[2] and u.unlocks.by_request(ACME, "r2") is None
            assert u.unlocks.by_target(ACME, made[1].target) == made[1]
            assert u.unlocks.by_target(OTHER, made[1].target) is None
            assert u.unlocks.list_after(ACME, ListWindow(size=5), None) == made[::-1]
            assert u.unlocks.list_after(ACME, ListWindow(size=1, after=(made[2].id,)), None) == made[1::-1]
            assert u.unlocks.list_after(ACME, ListWindow(size=5), PageKind.INVESTOR) == [made[2], made[0]]
            assert u.unlocks.unlockers_of(made[0].target) == [ACME.name, OTHER.name]
            assert u.unlocks.unlockers_of(made[0].target, limit=1) == [ACME.name]
        for twin in (unlock(5, "investors/a"), unlock(6, "investors/z", "r1")):  # the pair, the request id
            with pytest.raises(DuplicateRecord), uow() as u:
                u.unlocks.add(twin)
                u.commit()

    def test_every_unlock_in_id_order_by_keyset(self, uow: UowFactory) -> None:
        # Added out of id order and across pages: the order is the ids', whatever the page.
        third, first, second, fourth = (
            unlock(3, "investors/a"),
            unlock(1, "investors/a", page=OTHER),
            unlock(2, "programs/b"),
            unlock(4, "programs/c", page=OTHER),
        )
        with uow() as u:
            assert u.unlocks.all_after(None, 10) == []
            for item in (third, first, second, fourth):
                u.unlocks.add(item)
            u.commit()
        with uow() as u:
            assert u.unlocks.all_after(None, 10) == [first, second, third, fourth]
            assert u.unlocks.all_after(None, 2) == [first, second]
            assert u.unlocks.all_after(second.id, 2) == [third, fourth]  # strictly after the position
            assert u.unlocks.all_after(third.id, 2) == [fourth]
            assert u.unlocks.all_after(fourth.id, 2) == []

    def test_invoices_and_payment_events(self, uow: UowFactory) -> None:
        line = (InvoiceLine("pack", "isv-credits-10", 1, Money("EUR", 5000)),)
        with uow() as u:
            numbers = [u.invoices.next_number(2026), u.invoices.next_number(2026), u.invoices.next_number(2027)]
            assert numbers == [1, 2, 1]
            first = paid_invoice(
                id=ident(1), page=ACME, number="DI-2026-000001", lines=line, tax_rate_bps=2000, now=NOW
            )
            second = paid_invoice(
                id=ident(2),
                page=ACME,
                number="DI-2026-000002",
                lines=line,
                tax_rate_bps=0,
                now=NOW,
                provider_reference="pay_2",
            )
            u.invoices.add(first)
            u.invoices.add(second)
            assert u.payment_events.record("evt_1", "checkout.completed", NOW) is True
            assert u.payment_events.record("evt_1", "checkout.completed", NOW) is False
            u.commit()
        with uow() as u:
            assert u.invoices.next_number(2026) == 3  # the counter committed with the invoices
            assert u.invoices.get(ACME, first.id) == first and u.invoices.get(OTHER, first.id) is None
            assert u.invoices.by_provider_reference("pay_2", lock=True) == second
            assert u.invoices.by_provider_reference("pay_9") is None
            assert u.invoices.list_after(ACME, ListWindow(size=5), None) == [second, first]
            assert u.invoices.list_after(ACME, ListWindow(size=5, after=(second.id,)), None) == [first]
            u.invoices.save(second.refunded())
            assert u.invoices.list_after(ACME, ListWindow(size=5), InvoiceState.PAID) == [first]
            assert u.payment_events.record("evt_2", "payment.refunded", NOW) is True
            # no commit: the refund, the counter and the event id are dropped
        with uow() as u:
            assert u.invoices.get(ACME, second.id) == second
            assert u.invoices.next_number(2026) == 3
            assert u.payment_events.record("evt_2", "payment.refunded", NOW) is True
            assert u.payment_events.record("evt_1", "checkout.completed", NOW) is False
            u.rollback()
            assert u.payment_events.record("evt_2", "payment.refunded", NOW) is True  # rolled back, then again


class TestInMemory(Contract):
    @pytest.fixture
    def uow(self) -> UowFactory:
        store = seeded_store()
        return partial(FakeBillingUnitOfWork, store)


class TestSql(Contract):
    @pytest.fixture
    def uow(self, each_database: tuple[str, str]) -> Iterator[UowFactory]:
        with migrated_engine(each_database, MIGRATIONS) as engine:
            yield partial(SqlBillingUnitOfWork, engine)

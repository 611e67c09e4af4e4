"""Plans, subscriptions, plan changes and checkouts in PostgreSQL/SQLite: row <-> domain mapping, keyset pages."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, case, insert, or_, select, update

from billing_service.adapters.sql import must_utc, utc
from billing_service.adapters.tables import checkouts, plan_changes, plans, subscriptions
from billing_service.domain.checkouts import Checkout, CheckoutState
from billing_service.domain.money import Money
from billing_service.domain.plan_changes import ChangeKind, PlanChange
from billing_service.domain.plans import Interval, Plan, PlanKind
from billing_service.domain.subscriptions import LIVE_STATES, Subscription, SubscriptionState
from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.pagination import ListWindow


def _plan(row: RowMapping) -> Plan:
    return Plan(
        id=row["id"],
        display_name=row["display_name"],
        description=row["description"],
        page_kind=PageKind(row["page_kind"]),
        kind=PlanKind(row["kind"]),
        interval=Interval(row["interval"]),
        price=Money(row["currency"], int(row["price_minor"])),
        credits=int(row["credits"]),
        trial_days=row["trial_days"],
        features=tuple(json.loads(row["features"])),
        active=row["active"],
        match_results_visible=row["match_results_visible"],
        directory_filters=row["directory_filters"],
        contact_requests_per_month=row["contact_requests_per_month"],
        seats=row["seats"],
    )


class PlanRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, plan_id: str) -> Plan | None:
        row = self._connection.execute(select(plans).where(plans.c.id == plan_id)).mappings().first()
        return _plan(row) if row else None

    def list_after(
        self, window: ListWindow, page_kind: PageKind | None, kind: PlanKind | None, show_inactive: bool
    ) -> list[Plan]:
        query = select(plans)
        if page_kind is not None:
            query = query.where(plans.c.page_kind == int(page_kind))
        if kind is not None:
            query = query.where(plans.c.kind == int(kind))
        if not show_inactive:
            query = query.where(plans.c.active.is_(True))
        if window.after is not None:
            price, plan_id = window.after
            query = query.where(
                or_(plans.c.price_minor > price, and_(plans.c.price_minor == price, plans.c.id > plan_id))
            )
        query = query.order_by(plans.c.price_minor, plans.c.id).limit(window.size + 1)
        return [_plan(row) for row in self._connection.execute(query).mappings()]


def _subscription(row: RowMapping) -> Subscription:
    return Subscription(
        id=row["id"],
        page=parse_page(row["page"], "page"),
        plan_id=row["plan_id"],
        state=SubscriptionState(row["state"]),
        price=Money(row["currency"], int(row["price_minor"])),
        current_period_start=must_utc(row["period_start"]),
        current_period_end=must_utc(row["period_end"]),
        created_at=must_utc(row["created_at"]),
        updated_at=must_utc(row["updated_at"]),
        provider_reference=row["provider_reference"],
        contact_email=row["contact_email"],
        trial_end=utc(row["trial_end"]),
        cancel_at_period_end=row["cancel_at_period_end"],
        cancel_time=utc(row["cancel_time"]),
        end_time=utc(row["end_time"]),
        cancel_reason=row["cancel_reason"],
        scheduled_plan_id=row["scheduled_plan_id"],
    )


def _subscription_row(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "page": s.page.name,
        "plan_id": s.plan_id,
        "state": int(s.state),
        "currency": s.price.currency,
        "price_minor": s.price.amount_minor,
        "period_start": s.current_period_start,
        "period_end": s.current_period_end,
        "trial_end": s.trial_end,
        "cancel_at_period_end": s.cancel_at_period_end,
        "cancel_time": s.cancel_time,
        "end_time": s.end_time,
        "cancel_reason": s.cancel_reason,
        "provider_reference": s.provider_reference,
        "contact_email": s.contact_email,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "scheduled_plan_id": s.scheduled_plan_id,
    }


class SubscriptionRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _one(self, *where: Any, lock: bool = False) -> Subscription | None:
        query = select(subscriptions).where(*where)
        if lock:
            query = query.with_for_update()
        row = self._connection.execute(query).mappings().first()
        return _subscription(row) if row else None

    def get(self, page: PageName, subscription_id: str, lock: bool = False) -> Subscription | None:
        return self._one(subscriptions.c.page == page.name, subscriptions.c.id == subscription_id, lock=lock)

    def by_provider_reference(self, reference: str, lock: bool = False) -> Subscription | None:
        return self._one(subscriptions.c.provider_reference == reference, lock=lock) if reference else None

    def add(self, subscription: Subscription) -> None:
        self._connection.execute(insert(subscriptions).values(**_subscription_row(subscription)))

    def save(self, subscription: Subscription) -> None:
        values = _subscription_row(subscription)
        self._connection.execute(update(subscriptions).where(subscriptions.c.id == subscription.id).values(**values))

    def list_after(self, page: PageName, window: ListWindow, states: list[SubscriptionState]) -> list[Subscription]:
        """Live first, then newest first; keyset on (not live, id desc)."""
        rank = case((subscriptions.c.state.in_([int(s) for s in LIVE_STATES]), 0), else_=1)
        query = select(subscriptions, rank.label("rank")).where(subscriptions.c.page == page.name)
        if states:
            query = query.where(subscriptions.c.state.in_([int(s) for s in states]))
        if window.after is not None:
            after_rank, after_id = window.after
            query = query.where(or_(rank > after_rank, and_(rank == after_rank, subscriptions.c.id < after_id)))
        query = query.order_by(rank, subscriptions.c.id.desc()).limit(window.size + 1)
        return [_subscription(row) for row in self._connection.execute(query).mappings()]

    def due_ids(self, now: Any, limit: int = 500) -> list[str]:
        query = (
            select(subscriptions.c.id)
            .where(subscriptions.c.state.in_([int(s) for s in LIVE_STATES]), subscriptions.c.period_end <= now)
            .order_by(subscriptions.c.period_end)
            .limit(limit)
        )
        return list(self._connection.execute(query).scalars())

    def get_by_id(self, subscription_id: str, lock: bool = False) -> Subscription | None:
        return self._one(subscriptions.c.id == subscription_id, lock=lock)


def _plan_change(row: RowMapping) -> PlanChange:
    return PlanChange(
        id=row["id"],
        page=parse_page(row["page"], "page"),
        subscription_id=row["subscription_id"],
        from_plan_id=row["from_plan_id"],
        to_plan_id=row["to_plan_id"],
        kind=ChangeKind(row["kind"]),
        effective_time=must_utc(row["effective_time"]),
        creator=row["creator"],
        created_at=must_utc(row["created_at"]),
        invoice_id=row["invoice_id"],
        request_id=row["request_id"],
    )


class PlanChangeRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, change: PlanChange) -> None:
        self._connection.execute(
            insert(plan_changes).values(
                id=change.id,
                page=change.page.name,
                subscription_id=change.subscription_id,
                from_plan_id=change.from_plan_id,
                to_plan_id=change.to_plan_id,
                kind=change.kind.value,
                effective_time=change.effective_time,
                invoice_id=change.invoice_id,
                creator=change.creator,
                created_at=change.created_at,
                request_id=change.request_id,
            )
        )

    def by_request(self, page: PageName, request_id: str) -> PlanChange | None:
        query = select(plan_changes).where(plan_changes.c.page == page.name, plan_changes.c.request_id == request_id)
        row = self._connection.execute(query).mappings().first()
        return _plan_change(row) if row else None

    def of_subscription(self, subscription_id: str) -> list[PlanChange]:
        query = select(plan_changes).where(plan_changes.c.subscription_id == subscription_id)
        return [_plan_change(row) for row in self._connection.execute(query.order_by(plan_changes.c.id)).mappings()]


def _checkout(row: RowMapping) -> Checkout:
    return Checkout(
        id=row["id"],
        page=parse_page(row["page"], "page"),
        plan_id=row["plan_id"],
        success_url=row["success_url"],
        cancel_url=row["cancel_url"],
        amount=Money(row["currency"], int(row["amount_minor"])),
        creator=row["creator"],
        created_at=must_utc(row["created_at"]),
        expire_time=must_utc(row["expire_time"]),
        state=CheckoutState(row["state"]),
        checkout_url=row["checkout_url"],
        provider_reference=row["provider_reference"],
        contact_email=row["contact_email"],
        subscription_id=row["subscription_id"],
        invoice_id=row["invoice_id"],
        close_time=utc(row["close_time"]),
        failure_reason=row["failure_reason"],
        request_id=row["request_id"],
    )


def _checkout_row(c: Checkout) -> dict[str, Any]:
    return {
        "id": c.id,
        "page": c.page.name,
        "plan_id": c.plan_id,
        "state": int(c.state),
        "success_url": c.success_url,
        "cancel_url": c.cancel_url,
        "currency": c.amount.currency,
        "amount_minor": c.amount.amount_minor,
        "checkout_url": c.checkout_url,
        "provider_reference": c.provider_reference,
        "contact_email": c.contact_email,
        "creator": c.creator,
        "subscription_id": c.subscription_id,
        "invoice_id": c.invoice_id,
        "failure_reason": c.failure_reason,
        "created_at": c.created_at,
        "expire_time": c.expire_time,
        "close_time": c.close_time,
        "request_id": c.request_id,
    }


class CheckoutRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _one(self, *where: Any, lock: bool = False) -> Checkout | None:
        query = select(checkouts).where(*where)
        if lock:
            query = query.with_for_update()
        row = self._connection.execute(query).mappings().first()
        return _checkout(row) if row else None

    def get(self, page: PageName, checkout_id: str) -> Checkout | None:
        return self._one(checkouts.c.page == page.name, checkouts.c.id == checkout_id)

    def by_request(self, page: PageName, request_id: str) -> Checkout | None:
        return self._one(checkouts.c.page == page.name, checkouts.c.request_id == request_id)

    def by_provider_reference(self, reference: str, lock: bool = False) -> Checkout | None:
        return self._one(checkouts.c.provider_reference == reference, lock=lock) if reference else None

    def get_by_id(self, checkout_id: str, lock: bool = False) -> Checkout | None:
        return self._one(checkouts.c.id == checkout_id, lock=lock)

    def add(self, checkout: Checkout) -> None:
        self._connection.execute(insert(checkouts).values(**_checkout_row(checkout)))

    def save(self, checkout: Checkout) -> None:
        self._connection.execute(
            update(checkouts).where(checkouts.c.id == checkout.id).values(**_checkout_row(checkout))
        )

    def expired_open_ids(self, now: Any, limit: int = 500) -> list[str]:
        query = (
            select(checkouts.c.id)
            .where(checkouts.c.state == int(CheckoutState.OPEN), checkouts.c.expire_time <= now)
            .limit(limit)
        )
        return list(self._connection.execute(query).scalars())

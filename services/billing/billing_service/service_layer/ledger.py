"""Use cases on a page's credits: balance, history, staff grants and refunds, the expiry job."""

from __future__ import annotations

from datetime import datetime, timedelta

from billing_service.domain.ledger import CreditBalance, LedgerEntry, LedgerEntryKind
from billing_service.service_layer import credits
from billing_service.service_layer.common import Clock, UowFactory
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.authorization import PageAuthorizer
from devinsider_common.pages.names import PageName, parse_page
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.unit_of_work import create_once

EXPIRING_SOON = timedelta(days=30)
MAX_DESCRIPTION = 500


class LedgerUseCases:
    def __init__(self, uow: UowFactory, clock: Clock, authorizer: PageAuthorizer, limits: ListLimits) -> None:
        self._uow = uow
        self._clock = clock
        self._auth = authorizer
        self._limits = limits

    def balance(self, principal: Principal, page: PageName) -> CreditBalance:
        self._auth.require(principal, page, PagePermission.VIEW_PRIVATE)
        now = self._clock()
        with self._uow(read_only=True) as uow:  # one statement
            held, soon = uow.ledger.balance(page, now, now + EXPIRING_SOON)
        return CreditBalance(page, held.balance, min(soon, held.balance), held.last_entry_id, held.updated_at)

    def list_ledger_entries(
        self, principal: Principal, page: PageName, page_size: int, page_token: str, kind: LedgerEntryKind | None
    ) -> tuple[list[LedgerEntry], str]:
        self._auth.require(principal, page, PagePermission.MANAGE_BILLING)
        filters = {"parent": page.name, "kind": kind}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            found = uow.ledger.list_after(page, window, kind)
        return finish_window(window, found)

    def create(
        self,
        principal: Principal,
        page: PageName,
        kind: LedgerEntryKind,
        amount: int,
        description: str,
        expire_time: datetime | None,
        request_id: str,
    ) -> LedgerEntry:
        """Staff and services grant or refund credits by hand; idempotent by `request_id`."""
        if not principal.is_staff_or_service:
            raise errors.PermissionDenied("only platform staff and services grant credits", reason="STAFF_ONLY")
        violations = errors.Violations()
        violations.check(
            kind in (LedgerEntryKind.GRANT, LedgerEntryKind.REFUND), "ledger_entry.kind", "must be GRANT or REFUND"
        )
        violations.check(amount > 0, "ledger_entry.credits", "must be a positive number of credits")
        violations.check(
            len(description) <= MAX_DESCRIPTION, "ledger_entry.description", "must be at most 500 characters"
        )
        violations.check(bool(request_id), "request_id", "is required")
        now = self._clock()
        if expire_time is not None:
            violations.check(kind is LedgerEntryKind.GRANT, "ledger_entry.expire_time", "only grants expire")
            violations.check(expire_time > now, "ledger_entry.expire_time", "must be in the future")
        violations.raise_if_any()
        creator = self._auth.creator(principal)  # before the transaction: it may ask the user service

        def write() -> LedgerEntry:
            with self._uow() as uow:
                existing = uow.ledger.by_request(page, request_id)
                if existing is not None:
                    return existing
                entry = credits.add_credits(
                    uow,
                    page,
                    kind,
                    amount,
                    now=now,
                    description=description or kind.name.lower(),
                    reference=page.name,
                    creator=creator,
                    expire_time=expire_time,
                    request_id=request_id,
                )
                uow.commit()
                return entry

        def twin() -> LedgerEntry | None:  # the request id was used concurrently: the same entry
            with self._uow(read_only=True) as uow:
                return uow.ledger.by_request(page, request_id)

        def lost(_: Exception) -> errors.Conflict:
            return errors.Conflict("the ledger entry is being written concurrently; retry", reason="CONCURRENT_WRITE")

        return create_once(write, twin, lost)

    def expire_due_credits(self) -> int:
        now = self._clock()
        with self._uow(read_only=True) as uow:
            pages = uow.ledger.pages_with_expired_lots(now)
        written = 0
        for name in pages:
            with self._uow() as uow:
                written += credits.expire_due_lots(uow, parse_page(name, "page"), now)
                uow.commit()
        return written

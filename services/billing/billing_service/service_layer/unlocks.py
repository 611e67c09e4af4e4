"""Unlocks: spend credits once per target page, safely under concurrent calls.

The checks that ask other services (permission, own page, blocked pair) run before the
transaction; inside it, the page's balance row is held first, then the idempotency checks are
repeated, so concurrent calls for the same page serialise on the balance and each sees what
the previous one committed: 50 parallel calls with 10 credits spend exactly 10.

Whether the target exists and is active is asked inside that transaction, right before the spend
(docs/decisions.md): a refusal rolls back with nothing written (no refund to make), a replay of an
unlock already bought still answers it even if the target is gone since, and the answer is as
fresh as it can be when the credits go. The price: the page's own spends wait for that one call.
"""

from __future__ import annotations

from billing_service.domain.unlocks import Unlock, UnlockPrices, require_unlockable
from billing_service.service_layer import credits
from billing_service.service_layer.common import Clock, UowFactory
from billing_service.service_layer.ports import PageStates
from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.authorization import BlockList, PageAccess, PageAuthorizer, require_not_blocked
from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.unit_of_work import ConstraintViolation

HAS_UNLOCKED_TTL_SECONDS = 30


class UnlockUseCases:
    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        authorizer: PageAuthorizer,
        access: PageAccess,
        blocks: BlockList,
        states: PageStates,
        prices: UnlockPrices,
        limits: ListLimits,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._auth = authorizer
        self._access = access
        self._blocks = blocks
        self._states = states
        self._prices = prices
        self._limits = limits

    def _existing(self, page: PageName, target: PageName, request_id: str) -> Unlock | None:
        with self._uow(read_only=True) as uow:
            return self._replay(uow.unlocks.by_request(page, request_id), uow.unlocks.by_target(page, target), target)

    @staticmethod
    def _replay(by_request: Unlock | None, by_target: Unlock | None, target: PageName) -> Unlock | None:
        if by_request is not None and by_request.target != target:
            raise errors.InvalidArgument.for_field("request_id", "was used for an unlock of another page")
        return by_request or by_target

    def create(self, principal: Principal, page: PageName, target: PageName, request_id: str) -> Unlock:
        self._auth.require(principal, page, PagePermission.MANAGE_BILLING, staff=False)
        if not request_id:  # its length was checked with the request (grpc.requests.idempotency_key)
            raise errors.InvalidArgument.for_field("request_id", "is required")
        cost = self._prices.cost(page, target)
        existing = self._existing(page, target, request_id)
        if existing is not None:
            return existing
        if self._auth.is_member(principal, target):
            raise errors.FailedPrecondition("you are a member of that page already", reason="OWN_PAGE")
        require_not_blocked(self._blocks, page, target)
        try:
            return self._spend(principal, page, target, cost, request_id)
        except ConstraintViolation:  # the constraints caught what the held balance should already have
            existing = self._existing(page, target, request_id)
            if existing is None:
                raise
            return existing

    def _spend(self, principal: Principal, page: PageName, target: PageName, cost: int, request_id: str) -> Unlock:
        creator = self._auth.creator(principal)  # before the transaction: it may ask the user service
        now = self._clock()
        with self._uow() as uow:
            held = uow.ledger.lock_balance(page, now)  # first statement: serialises this page's spends
            again = self._replay(uow.unlocks.by_request(page, request_id), uow.unlocks.by_target(page, target), target)
            if again is not None:
                return again
            require_unlockable(target, self._states.state(target))  # a refusal rolls back: nothing spent
            unlock_id = new_id()
            name = f"{page.name}/unlocks/{unlock_id}"
            entry = credits.spend(
                uow,
                page,
                held,
                cost,
                now=now,
                description=f"unlock of {target.name}",
                reference=name,
                creator=creator,
            )
            unlock = Unlock(unlock_id, page, target, cost, entry.id, creator, now, request_id)
            uow.unlocks.add(unlock)
            uow.events.unlock_created(unlock, entry.balance_after)
            uow.commit()
        return unlock

    def get(self, principal: Principal, page: PageName, unlock_id: str) -> Unlock:
        self._auth.require(principal, page, PagePermission.VIEW_PRIVATE)
        with self._uow(read_only=True) as uow:
            unlock = uow.unlocks.get(page, unlock_id)
        if unlock is None:
            raise errors.NotFound(f"{page.name}/unlocks/{unlock_id} does not exist")
        return unlock

    def list_unlocks(
        self, principal: Principal, page: PageName, page_size: int, page_token: str, target_kind: PageKind | None
    ) -> tuple[list[Unlock], str]:
        self._auth.require(principal, page, PagePermission.VIEW_PRIVATE)
        filters = {"parent": page.name, "target_kind": target_kind}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        with self._uow(read_only=True) as uow:
            found = uow.unlocks.list_after(page, window, target_kind)
        return finish_window(window, found)

    def has_unlocked(self, target: PageName, subject: str = "", unlocker: PageName | None = None) -> list[str]:
        """The pages (among the given one, or those `subject` is a member of) that unlocked `target`."""
        with self._uow(read_only=True) as uow:
            if unlocker is not None:
                return [unlocker.name] if uow.unlocks.by_target(unlocker, target) else []
            candidates = uow.unlocks.unlockers_of(target)
        return [
            name
            for name in candidates
            if self._access.allowed(parse_page(name, "page").name, subject, PagePermission.VIEW_PRIVATE)
        ]

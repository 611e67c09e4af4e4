"""The `seats` entitlement of a page (company, investor, program): its members and its pending invitations
may not outnumber the seats its plan gives (billing's word, `devinsider_common.entitlements`; 0: no limit).

Only an invitation takes a new seat, so only CreateInvitation is refused (RESOURCE_EXHAUSTED,
`SEATS_EXHAUSTED`): accepting one fills the seat it held; a page's first owner (creating it, a claim
approved, AssignCompanyOwner and the like, decided by the creator or by staff) is never refused. A downgrade
removes nobody: a page over its new cap keeps its members and invitations and can invite again once under it.
Two concurrent invitations may both take the last seat: a cap on ordinary use, not an exact count.
"""

from __future__ import annotations

from datetime import datetime

from devinsider_common.entitlements import EntitlementsSource, Unrestricted, plan_limit_reached
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.ports import MembershipUnitOfWork


class SeatLimit:
    def __init__(self, kind: PageKind, entitlements: EntitlementsSource | None = None) -> None:
        self._kind = kind
        self._entitlements = entitlements or Unrestricted()

    def seats(self, page_id: str) -> int:
        """The page's seats (0: no limit); asked before the transaction, as it may call billing."""
        return self._entitlements.of(PageName(self._kind, page_id)).seats

    def require_free_seat(self, uow: MembershipUnitOfWork, page_id: str, seats: int, now: datetime) -> None:
        """RESOURCE_EXHAUSTED when the members and live pending invitations fill the page's `seats`."""
        if seats <= 0:
            return
        taken = uow.members.count(page_id) + uow.invitations.pending_count(page_id, now)
        if taken >= seats:
            page = PageName(self._kind, page_id)
            raise plan_limit_reached(
                "seats",
                page,
                seats,
                f"no seat left to invite: {taken} taken by members and pending invitations",
                reason="SEATS_EXHAUSTED",
            )

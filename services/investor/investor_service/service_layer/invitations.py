"""The shared invitation use cases, with one fix this service needs until libs/common has it.

`PageInvitations.accept` serialises two accepts of one invitation with `SELECT ... FOR UPDATE`,
which SQLite ignores: there the loser reaches the member insert and fails on the primary key.
That loser must see what PostgreSQL's loser sees (the invitation is no longer pending), not
INTERNAL; so an integrity error on accept re-reads the invitation and answers from its state.
TO LIFT into devinsider_common.pages.invitations.PageInvitations.accept.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.invitations import PageInvitations
from devinsider_common.pages.model import Invitation


class InvestorInvitations(PageInvitations):
    def accept(self, principal: Principal, page_id: str, invitation_id: str, token: str) -> Invitation:
        try:
            return super().accept(principal, page_id, invitation_id, token)
        except IntegrityError as error:  # a concurrent accept committed first
            try:
                super().accept(principal, page_id, invitation_id, token)  # now raises from the new state
            except errors.DomainError:
                raise
            raise errors.Conflict("the invitation changed concurrently; retry", reason="CONCURRENT_ACCEPT") from error

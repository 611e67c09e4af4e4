"""The shared invitation use cases, with one guard the shared module lacks (to lift into libs/common).

`PageInvitations.accept` relies on `SELECT ... FOR UPDATE` to serialise two accepts of one
invitation. SQLite has no row locks: both calls read it pending and the loser fails on the
members' primary key, which surfaced as INTERNAL. Here the loser gets FAILED_PRECONDITION, like on
PostgreSQL. (The complete fix belongs in the shared repository: a `save_state` conditional on
`state = pending` with a row-count check.)
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.invitations import PageInvitations
from devinsider_common.pages.model import Invitation


class CompanyInvitations(PageInvitations):
    def accept(self, principal: Principal, page_id: str, invitation_id: str, token: str) -> Invitation:
        try:
            return super().accept(principal, page_id, invitation_id, token)
        except IntegrityError as error:
            raise errors.FailedPrecondition(
                "the invitation was accepted concurrently", reason="INVITATION_NOT_PENDING"
            ) from error

"""Who unlocked a page: the unlock projection read for the page's members ("who unlocked us")."""

from __future__ import annotations

from contact_service.domain.unlocks import PageUnlock, unlock_position
from contact_service.service_layer.common import UowFactory
from devinsider_common.auth.principal import Principal
from devinsider_common.pages.authorization import PageAuthorizer
from devinsider_common.pages.names import PageName
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pagination import ListLimits, finish_window, list_window


class UnlockUseCases:
    def __init__(self, uow: UowFactory, auth: PageAuthorizer, limits: ListLimits) -> None:
        self._uow = uow
        self._auth = auth
        self._limits = limits

    def list_page_unlocks(
        self, principal: Principal, page: PageName, page_size: int, page_token: str
    ) -> tuple[list[PageUnlock], str]:
        self._auth.require(principal, page, PagePermission.VIEW_PRIVATE)
        window = list_window(page_size, page_token, self._limits, filters={"parent": page.name})
        with self._uow(read_only=True) as uow:
            found = uow.unlocks.list_after(page, window)
        return finish_window(window, found, unlock_position)

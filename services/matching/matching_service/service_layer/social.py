"""Favorites and blocks of organisation pages."""

from __future__ import annotations

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.pages.ports import UserDirectory
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pages.user_directory import user_reference
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.unit_of_work import create_once
from matching_service.domain.pages import PageStatus
from matching_service.domain.social import (
    Block,
    BlockView,
    Favorite,
    FavoriteView,
    check_other_page,
    check_reason,
)
from matching_service.service_layer.common import Clock, UowFactory, authorize, not_found
from matching_service.service_layer.ports import PageDirectory


class SocialUseCases:
    def __init__(
        self, uow: UowFactory, clock: Clock, directory: PageDirectory, limits: ListLimits, users: UserDirectory
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._directory = directory
        self._limits = limits
        self._users = users

    def _existing(self, page: PageName, path: str) -> PageStatus:
        status = self._directory.statuses([page.name]).get(page.name)
        if status is None:
            raise errors.NotFound(f"{page.name} does not exist", reason="PAGE_NOT_FOUND", metadata={"field": path})
        return status

    # -- favorites ---------------------------------------------------------------------------------
    def add_favorite(self, principal: Principal, owner: PageName, page: PageName) -> FavoriteView:
        """Favorite `page` once: a second call (or a concurrent twin) returns the stored favorite."""
        authorize(self._directory, principal, owner.name, PagePermission.EDIT)
        check_other_page(owner, page, "favorite.page")
        status = self._existing(page, "favorite.page")
        creator = user_reference(self._users, principal)  # before the transaction

        def find_twin() -> Favorite | None:
            with self._uow() as uow:
                return uow.favorites.find(owner.name, page.name)

        def write() -> Favorite:
            with self._uow() as uow:
                existing = uow.favorites.find(owner.name, page.name)
                if existing is not None:
                    return existing
                favorite = Favorite(new_id(), owner, page, creator, self._clock())
                uow.favorites.add(favorite)
                uow.commit()
            return favorite

        return FavoriteView(create_once(write, find_twin), status)

    def remove_favorite(self, principal: Principal, owner: PageName, favorite_id: str) -> None:
        authorize(self._directory, principal, owner.name, PagePermission.EDIT)
        with self._uow() as uow:
            if uow.favorites.get(owner.name, favorite_id) is None:
                raise not_found(f"{owner.name}/favorites/{favorite_id}")
            uow.favorites.remove(favorite_id)
            uow.commit()

    def list_favorites(
        self, principal: Principal, owner: PageName, page_size: int, page_token: str, kind: PageKind | None
    ) -> tuple[list[FavoriteView], str]:
        authorize(self._directory, principal, owner.name, PagePermission.VIEW_PRIVATE)
        window = list_window(page_size, page_token, self._limits, filters={"kind": int(kind) if kind else 0})
        with self._uow() as uow:
            found = uow.favorites.list_after(owner.name, window, kind)
        items, token = finish_window(window, found)
        statuses = self._summaries([f.page.name for f in items])
        return [FavoriteView(f, statuses.get(f.page.name)) for f in items], token

    # -- blocks ------------------------------------------------------------------------------------
    def block(self, principal: Principal, blocker: PageName, page: PageName, reason: str) -> BlockView:
        """Block `page` once: a second call (or a concurrent twin) returns the stored block."""
        authorize(self._directory, principal, blocker.name, PagePermission.EDIT)
        check_other_page(blocker, page, "block.page")
        check_reason(reason)
        status = self._existing(page, "block.page")
        creator = user_reference(self._users, principal)  # before the transaction

        def find_twin() -> Block | None:
            with self._uow() as uow:
                return uow.blocks.find(blocker.name, page.name)

        def write() -> Block:
            with self._uow() as uow:
                existing = uow.blocks.find(blocker.name, page.name)
                if existing is not None:
                    return existing
                block = Block(new_id(), blocker, page, reason.strip(), creator, self._clock())
                uow.blocks.add(block)
                uow.events.block_created(block)
                uow.commit()
            return block

        return BlockView(create_once(write, find_twin), status)

    def unblock(self, principal: Principal, blocker: PageName, block_id: str) -> None:
        authorize(self._directory, principal, blocker.name, PagePermission.EDIT)
        with self._uow() as uow:
            block = uow.blocks.get(blocker.name, block_id)
            if block is None:
                raise not_found(f"{blocker.name}/blocks/{block_id}")
            uow.blocks.remove(block_id)
            uow.events.block_deleted(block)
            uow.commit()

    def list_blocks(
        self, principal: Principal, blocker: PageName, page_size: int, page_token: str
    ) -> tuple[list[BlockView], str]:
        authorize(self._directory, principal, blocker.name, PagePermission.VIEW_PRIVATE)
        window = list_window(page_size, page_token, self._limits)
        with self._uow() as uow:
            found = uow.blocks.list_after(blocker.name, window)
        items, token = finish_window(window, found)
        statuses = self._summaries([b.page.name for b in items])
        return [BlockView(b, statuses.get(b.page.name)) for b in items], token

    def blocked(self, a: PageName, b: PageName) -> bool:
        with self._uow() as uow:
            return uow.blocks.either_way(a.name, b.name)

    def _summaries(self, names: list[str]) -> dict[str, PageStatus]:
        if not names:
            return {}
        fresh = self._directory.statuses(names)
        missing = [n for n in names if n not in fresh]
        if missing:
            with self._uow() as uow:
                fresh |= uow.statuses.get_many(missing)
        return fresh

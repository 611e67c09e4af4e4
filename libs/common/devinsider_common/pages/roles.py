"""Page roles and what each allows (values match devinsider.common.v1.PageRole / PagePermission)."""

from __future__ import annotations

import enum


class PageRole(enum.IntEnum):
    """From most to least powerful: a lower value outranks a higher one."""

    OWNER = 1
    ADMIN = 2
    EDITOR = 3
    VIEWER = 4

    def outranks_or_equals(self, other: PageRole) -> bool:
        return self.value <= other.value


class PagePermission(enum.IntEnum):
    VIEW_PRIVATE = 1
    EDIT = 2
    MANAGE_MEMBERS = 3
    DELETE = 4
    MANAGE_BILLING = 5


_GRANTS: dict[PageRole, frozenset[PagePermission]] = {
    PageRole.OWNER: frozenset(PagePermission),
    PageRole.ADMIN: frozenset(
        {PagePermission.VIEW_PRIVATE, PagePermission.EDIT, PagePermission.MANAGE_MEMBERS, PagePermission.MANAGE_BILLING}
    ),
    PageRole.EDITOR: frozenset({PagePermission.VIEW_PRIVATE, PagePermission.EDIT}),
    PageRole.VIEWER: frozenset({PagePermission.VIEW_PRIVATE}),
}


def allows(role: PageRole | None, permission: PagePermission) -> bool:
    return role is not None and permission in _GRANTS[role]


def permissions_of(role: PageRole) -> frozenset[PagePermission]:
    return _GRANTS[role]

"""Who may read and write a page's matching data: its members by role (the owning service's answer),
platform staff and services read only, nobody else."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from devinsider_common.pages.names import PageKind
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import failure
from devinsider_common.testing.tokens import principal
from matching_service.domain.matches import MatchFilters

from ..fakes import World
from .helpers import ALICE, IND, page, set_profile

ACME, P = page("companies/acme"), page("programs/p")

PERMISSIONS = [
    # (role on the page or None, realm roles, reads allowed, writes allowed)
    (PageRole.OWNER, ("isv",), True, True),
    (PageRole.ADMIN, ("isv",), True, True),
    (PageRole.EDITOR, ("isv",), True, True),
    (PageRole.VIEWER, ("isv",), True, False),
    (None, ("isv",), False, False),
    (None, ("admin",), True, False),
    (None, ("service",), True, False),
    ("other", ("isv",), False, False),  # owner of ANOTHER company, using this company's ids
]


@pytest.mark.parametrize(("role", "roles", "reads", "writes"), PERMISSIONS)
def test_permission_matrix(matching: World, role: object, roles: tuple[str, ...], reads: bool, writes: bool) -> None:
    matching.pages.add("companies/acme", owner="alice")
    matching.pages.add("companies/other", owner="bob")
    matching.pages.add("programs/p", owner="pat")
    if isinstance(role, PageRole):
        matching.pages.members["companies/acme"]["bob"] = role
    bob = principal("bob", roles)
    set_profile(matching, ALICE, "companies/acme", {IND: ("fintech",)})
    app = matching.app
    favorite = app.social.add_favorite(ALICE, ACME, P).favorite
    reading: list[Callable[[], object]] = [
        lambda: app.profiles.get(bob, ACME),
        lambda: app.matches.list_matches(bob, ACME, PageKind.PROGRAM, 0, "", MatchFilters()),
        lambda: app.social.list_favorites(bob, ACME, 0, "", None),
        lambda: app.social.list_blocks(bob, ACME, 0, ""),
        lambda: app.matches.score(bob, ACME, P),
    ]
    writing: list[Callable[[], object]] = [
        lambda: set_profile(matching, bob, "companies/acme", {IND: ("retail",)}),
        lambda: app.social.add_favorite(bob, ACME, P),
        lambda: app.social.block(bob, ACME, P, ""),
        lambda: app.social.remove_favorite(bob, ACME, favorite.id),
        lambda: app.social.unblock(bob, ACME, "no-such-block"),
    ]
    for calls, allowed in ((reading, reads), (writing[:-1], writes)):
        for call in calls:
            if allowed:
                call()
            else:
                assert failure(call).code == grpc.StatusCode.PERMISSION_DENIED
    last = failure(writing[-1])  # permission comes before existence
    assert last.code == (grpc.StatusCode.NOT_FOUND if writes else grpc.StatusCode.PERMISSION_DENIED)

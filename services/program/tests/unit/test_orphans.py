"""A program whose sole owner's account is deleted, on the in-memory app: the departure marks it orphaned,
staff list it and give it an owner, who can then edit it. The shared rules are in libs/common/tests/pages
(test_departures.py, test_orphans.py); this is their wiring to programs."""

from __future__ import annotations

import grpc

from devinsider_common.pages.ports import DirectoryUser
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure
from program_service.domain.program import ProgramContent
from program_service.domain.query import ProgramQuery

from ..fakes import published
from ..world import Stage

DANA = DirectoryUser("users/u-dana", "kc-dana", "Dana Scully", "dana@acme.io")


def test_an_orphaned_program_is_marked_listed_to_staff_and_given_an_owner() -> None:
    stage = Stage()
    program_id = stage.orphaned_program()
    staff, orphaned = stage.who("staff"), ProgramQuery(orphaned=True)
    listed, _, total = stage.app.programs.list_programs(staff, 0, "", orphaned)
    assert ([v.program.id for v in listed], listed[0].program.orphaned_at, total) == ([program_id], stage.clock(), 1)
    (updated,) = [e for e in published(stage.store, "program_updated") if e.args[1] == ["orphan_time"]]
    assert updated.args[0].orphaned_at == stage.clock()
    assert failure(lambda: stage.app.programs.list_programs(stage.who("owner"), 0, "", orphaned)) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "ORPHAN_FILTER_STAFF_ONLY"
    )
    stage.directory.add(DANA)
    owner = stage.app.owners.assign(staff, program_id, "users/u-dana")
    assert (owner.subject, owner.role) == ("kc-dana", PageRole.OWNER)
    assert stage.app.programs.list_programs(staff, 0, "", orphaned)[2] == 0
    dana = stage.who("dana")
    edited = stage.app.programs.update(dana, program_id, ProgramContent(tagline="Back"), frozenset({"tagline"}))
    assert (edited.program.content.tagline, edited.program.orphaned_at, edited.role) == ("Back", None, PageRole.OWNER)

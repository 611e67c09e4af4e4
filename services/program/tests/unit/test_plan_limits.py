"""The program service enforces its pages' plans (billing's entitlements, faked) as `build_app` wires them:
the directory's criteria filters, and seats. The rules themselves: libs/common/tests/pages/test_plan_limits.py."""

from __future__ import annotations

import grpc

from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.entitlements import FakeEntitlements
from devinsider_common.testing.failures import failure
from program_service.domain.program import ProgramType
from program_service.domain.query import ProgramQuery

from ..world import Stage


def test_criteria_filters_and_seats_follow_the_pages_plan() -> None:
    billing = FakeEntitlements()
    stage = Stage(entitlements=billing)
    program_id = stage.create_program(publish=True)
    page, owner = f"programs/{program_id}", stage.who("owner")
    filtered = ProgramQuery(types=(ProgramType.TECHNOLOGY,), country_codes=("FR",))

    assert stage.app.programs.list_programs(None, 10, "", ProgramQuery())[2] == 1
    refused = failure(lambda: stage.app.programs.list_programs(owner, 10, "", filtered, page))
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "DIRECTORY_FILTERS_NOT_ENTITLED")
    assert "program_types, country_codes" in refused.message
    billing.set(page, directory_filters=True)
    by_type = ProgramQuery(types=(ProgramType.TECHNOLOGY,))
    assert [v.program.id for v in stage.app.programs.list_programs(owner, 10, "", by_type, page)[0]] == [program_id]

    billing.set(page, seats=1)  # the owner alone
    seats = failure(lambda: stage.invite(program_id, "new@example.com", PageRole.VIEWER))
    assert (seats.code, seats.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "SEATS_EXHAUSTED")

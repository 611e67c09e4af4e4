"""Applications of companies to programs: the state machine, one open application per company,
idempotency, visibility to both sides, the company service's answers (and its outage)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from devinsider.program.v1 import program_pb2 as P  # noqa: N812 - short name for many messages
from devinsider.program.v1 import program_pb2_grpc
from program_service.bootstrap import ProgramService

from ..company_double import CompanyDouble
from ..conftest import TokenFactory, error_of
from ..world import COMPANY, World, build_world


@pytest.fixture
def world(
    stub: program_pb2_grpc.ProgramServiceStub, service: ProgramService, company: CompanyDouble, token: TokenFactory
) -> World:
    return build_world(stub, service, company, token)


def _fails(call: pytest.ExceptionInfo[grpc.RpcError]) -> tuple[grpc.StatusCode, str]:
    code, reason, _ = error_of(call)
    return code, reason


def test_apply_approve_and_the_program_counts_its_member_companies(world: World) -> None:
    stub, owner = world.stub, world.caller("owner")
    application = stub.GetApplication(
        P.GetApplicationRequest(name=world.application), metadata=world.caller("co_viewer")
    )
    assert (application.company, application.state) == (COMPANY, P.APPLICATION_STATE_PENDING)
    assert (application.company_display_name, application.program_display_name) == ("Acme Software", "Azure Partners")
    assert application.applicant == "kc-co_editor" and application.message == "we integrate"
    with pytest.raises(grpc.RpcError) as call:  # one open application per program and company
        world.apply(world.published)
    assert _fails(call) == (grpc.StatusCode.ALREADY_EXISTS, "APPLICATION_EXISTS")
    approved = stub.ApproveApplication(P.ApproveApplicationRequest(name=world.application), metadata=owner)
    assert approved.state == P.APPLICATION_STATE_APPROVED and approved.HasField("decide_time")
    assert stub.GetProgram(P.GetProgramRequest(name=world.published)).member_company_count == 1
    with pytest.raises(grpc.RpcError) as call:  # an approved company is still "open": no second one
        world.apply(world.published)
    assert call.value.code() == grpc.StatusCode.ALREADY_EXISTS
    for rpc, request in (
        (stub.ApproveApplication, P.ApproveApplicationRequest(name=world.application)),
        (stub.RejectApplication, P.RejectApplicationRequest(name=world.application, reason="late")),
        (stub.WithdrawApplication, P.WithdrawApplicationRequest(name=world.application)),
    ):
        who = "co_editor" if rpc is stub.WithdrawApplication else "owner"
        with pytest.raises(grpc.RpcError) as call:
            rpc(request, metadata=world.caller(who))  # type: ignore[arg-type]
        assert _fails(call) == (grpc.StatusCode.FAILED_PRECONDITION, "APPLICATION_NOT_PENDING")
    members = stub.ListApplications(
        P.ListApplicationsRequest(parent=world.published, state=P.APPLICATION_STATE_APPROVED), metadata=owner
    )
    assert [a.name for a in members.applications] == [world.application]


def test_reject_needs_a_reason_and_withdrawn_companies_may_apply_again(world: World) -> None:
    stub, owner = world.stub, world.caller("owner")
    with pytest.raises(grpc.RpcError) as call:
        stub.RejectApplication(P.RejectApplicationRequest(name=world.application, reason=" "), metadata=owner)
    assert error_of(call)[2] == ["reason"]
    withdrawn = stub.WithdrawApplication(
        P.WithdrawApplicationRequest(name=world.application), metadata=world.caller("co_editor")
    )
    assert withdrawn.state == P.APPLICATION_STATE_WITHDRAWN and withdrawn.decider == "kc-co_editor"
    again = world.apply(world.published)
    rejected = stub.RejectApplication(P.RejectApplicationRequest(name=again, reason="not now"), metadata=owner)
    assert (rejected.state, rejected.rejection_reason) == (P.APPLICATION_STATE_REJECTED, "not now")
    listed = stub.ListApplications(
        P.ListApplicationsRequest(parent="programs/-", company=COMPANY), metadata=world.caller("co_viewer")
    )
    assert [a.name for a in listed.applications] == [again, world.application]  # newest first


def test_only_published_programs_take_applications(world: World) -> None:
    request = P.CreateApplicationRequest(parent=world.draft, application=P.Application(company=COMPANY))
    with pytest.raises(grpc.RpcError) as call:  # a draft does not exist for the applicant
        world.stub.CreateApplication(request, metadata=world.caller("co_editor"))
    assert _fails(call) == (grpc.StatusCode.NOT_FOUND, "PROGRAM_NOT_FOUND")
    world.stub.ArchiveProgram(P.ArchiveProgramRequest(name=world.other), metadata=world.caller("other_owner"))
    request.parent = world.other
    with pytest.raises(grpc.RpcError) as call:
        world.stub.CreateApplication(request, metadata=world.caller("co_editor"))
    assert _fails(call) == (grpc.StatusCode.FAILED_PRECONDITION, "PROGRAM_NOT_PUBLISHED")


def test_bad_input_and_idempotent_retries(world: World) -> None:
    stub, auth = world.stub, world.caller("co_editor")
    bad = P.CreateApplicationRequest(parent=world.published, application=P.Application(company="acme"))
    with pytest.raises(grpc.RpcError) as call:
        stub.CreateApplication(bad, metadata=auth)
    assert error_of(call)[2] == ["application.company"]
    bad.application.company, bad.application.message = COMPANY, "m" * 2001
    with pytest.raises(grpc.RpcError) as call:
        stub.CreateApplication(bad, metadata=auth)
    assert error_of(call)[2] == ["application.message"]
    with pytest.raises(grpc.RpcError) as call:
        stub.ListApplications(P.ListApplicationsRequest(parent="programs/-"), metadata=auth)
    assert error_of(call)[2] == ["company"]
    world.stub.WithdrawApplication(P.WithdrawApplicationRequest(name=world.application), metadata=auth)
    retry = P.CreateApplicationRequest(
        parent=world.published, application=P.Application(company=COMPANY), request_id="k1"
    )
    first, second = (stub.CreateApplication(retry, metadata=auth) for _ in range(2))
    assert first.name == second.name


def test_company_service_outage_is_unavailable_and_calls_carry_a_service_token(world: World) -> None:
    world.company.down = True
    fresh = world.create_program(publish=True)
    with pytest.raises(grpc.RpcError) as call:
        world.apply(fresh)
    assert call.value.code() == grpc.StatusCode.UNAVAILABLE
    assert world.company.calls and all(roles == frozenset({"service"}) for _, roles in world.company.calls)


def test_deleting_a_program_closes_its_pending_applications(world: World) -> None:
    world.stub.DeleteProgram(P.DeleteProgramRequest(name=world.published), metadata=world.caller("owner"))
    listed = world.stub.ListApplications(
        P.ListApplicationsRequest(parent="programs/-", company=COMPANY), metadata=world.caller("co_editor")
    )
    assert [(a.state, a.rejection_reason) for a in listed.applications] == [
        (P.APPLICATION_STATE_REJECTED, "the program was deleted")
    ]


def test_two_concurrent_applications_of_one_company_one_wins(world: World, database: tuple[str, str]) -> None:
    if database[0].startswith("sqlite"):
        pytest.skip("the race on the unique index is exercised on PostgreSQL")
    fresh = world.create_program(publish=True)

    def apply() -> grpc.StatusCode:
        try:
            world.apply(fresh)
            return grpc.StatusCode.OK
        except grpc.RpcError as error:
            return error.code()

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(lambda _: apply(), range(4)))
    assert codes.count(grpc.StatusCode.OK) == 1 and set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.ALREADY_EXISTS}

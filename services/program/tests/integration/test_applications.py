"""The application RPCs through the real server on PostgreSQL (with a company-service double): each
reaches its use case with the request's fields and maps a refusal to its status with details;
two concurrent applications of one company meet the database's unique index. The rules are
`tests/unit/test_applications.py`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc

from devinsider.program.v1 import program_pb2 as P  # noqa: N812 - short name for many messages
from devinsider.program.v1 import program_pb2_grpc
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import CallerFactory

from ..company_double import CompanyDouble
from ..conftest import new_program

Stub = program_pb2_grpc.ProgramServiceStub
COMPANY = "companies/c-acme"
INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _published(stub: Stub, metadata: object) -> str:
    program = stub.CreateProgram(P.CreateProgramRequest(program=new_program()), metadata=metadata)  # type: ignore[arg-type]
    stub.PublishProgram(P.PublishProgramRequest(name=program.name), metadata=metadata)  # type: ignore[arg-type]
    return program.name


def _apply(stub: Stub, program: str, metadata: object, company: str = COMPANY, request_id: str = "") -> P.Application:
    request = P.CreateApplicationRequest(
        parent=program, application=P.Application(company=company, message="we integrate"), request_id=request_id
    )
    return stub.CreateApplication(request, metadata=metadata)  # type: ignore[arg-type]


def test_application_rpcs(stub: Stub, company: CompanyDouble, callers: CallerFactory) -> None:
    owner, ann = callers("kc-owner", ("program",)).metadata, callers("kc-ann", ("isv",)).metadata
    company.grant(COMPANY, "kc-ann", PageRole.EDITOR)
    company.names[COMPANY] = "Acme Software"
    program = _published(stub, owner)
    assert failure(lambda: _apply(stub, program, ann, company="acme")) == Failure(
        INVALID, "INVALID_ARGUMENT", ["application.company"]
    )
    created = _apply(stub, program, ann, request_id=" k1 ")
    assert (created.company, created.state, created.applicant) == (COMPANY, P.APPLICATION_STATE_PENDING, "kc-ann")
    assert (created.company_display_name, created.program_display_name) == ("Acme Software", "Azure Partners")
    assert _apply(stub, program, ann, request_id="k1").name == created.name  # the same request
    assert failure(lambda: _apply(stub, program, ann)) == Failure(grpc.StatusCode.ALREADY_EXISTS, "APPLICATION_EXISTS")
    assert created.name.startswith(f"{program}/applications/")

    got = stub.GetApplication(P.GetApplicationRequest(name=created.name), metadata=ann)
    assert got == created
    bad_name = failure(lambda: stub.GetApplication(P.GetApplicationRequest(name=program), metadata=ann))
    assert bad_name.fields == ["name"]
    listed = stub.ListApplications(P.ListApplicationsRequest(parent=program), metadata=owner)
    assert [a.name for a in listed.applications] == [created.name]
    mine = stub.ListApplications(P.ListApplicationsRequest(parent="programs/-", company=COMPANY), metadata=ann)
    assert [a.name for a in mine.applications] == [created.name]
    no_company = failure(lambda: stub.ListApplications(P.ListApplicationsRequest(parent="programs/-"), metadata=ann))
    assert no_company.fields == ["company"]
    bad_state = P.ListApplicationsRequest(parent=program, state=42)  # type: ignore[arg-type]
    assert failure(lambda: stub.ListApplications(bad_state, metadata=owner)).fields == ["state"]
    approved_only = P.ListApplicationsRequest(parent=program, state=P.APPLICATION_STATE_APPROVED)
    assert list(stub.ListApplications(approved_only, metadata=owner).applications) == []

    blank = P.RejectApplicationRequest(name=created.name, reason=" ")
    assert failure(lambda: stub.RejectApplication(blank, metadata=owner)).fields == ["reason"]
    approved = stub.ApproveApplication(P.ApproveApplicationRequest(name=created.name), metadata=owner)
    assert approved.state == P.APPLICATION_STATE_APPROVED and approved.HasField("decide_time")
    assert stub.GetProgram(P.GetProgramRequest(name=program)).member_company_count == 1
    withdraw = P.WithdrawApplicationRequest(name=created.name)
    assert failure(lambda: stub.WithdrawApplication(withdraw, metadata=ann)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "APPLICATION_NOT_PENDING"
    )
    company.grant("companies/c-two", "kc-ann", PageRole.EDITOR)
    second = _apply(stub, program, ann, company="companies/c-two")
    assert second.company_display_name == ""  # the company service does not know its name
    withdrawn = stub.WithdrawApplication(P.WithdrawApplicationRequest(name=second.name), metadata=ann)
    assert (withdrawn.state, withdrawn.decider) == (P.APPLICATION_STATE_WITHDRAWN, "kc-ann")
    third = _apply(stub, program, ann, company="companies/c-two")
    rejected = stub.RejectApplication(P.RejectApplicationRequest(name=third.name, reason="not now"), metadata=owner)
    assert (rejected.state, rejected.rejection_reason) == (P.APPLICATION_STATE_REJECTED, "not now")

    company.down = True
    assert failure(lambda: _apply(stub, program, ann, company="companies/c-three")).code == (
        grpc.StatusCode.UNAVAILABLE
    )
    # Every call to the company service carried this service's own token, never Ann's.
    assert company.calls and all(roles == frozenset({"service"}) for _, roles in company.calls)


def test_two_concurrent_applications_of_one_company_one_wins(
    stub: Stub, company: CompanyDouble, callers: CallerFactory
) -> None:
    owner, ann = callers("kc-owner", ("program",)).metadata, callers("kc-ann", ("isv",)).metadata
    company.grant(COMPANY, "kc-ann", PageRole.EDITOR)
    program = _published(stub, owner)

    def apply() -> grpc.StatusCode:
        try:
            _apply(stub, program, ann)
            return grpc.StatusCode.OK
        except grpc.RpcError as error:
            return error.code()

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(lambda _: apply(), range(4)))
    assert codes.count(grpc.StatusCode.OK) == 1 and set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.ALREADY_EXISTS}

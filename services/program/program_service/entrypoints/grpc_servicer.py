"""ProgramService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common import errors
from devinsider_common.context import current_principal
from devinsider_common.field_mask import resolve_update_mask
from devinsider_common.grpc.requests import caller, idempotency_key, optional_enum, repeated_enum
from devinsider_common.pages.names import PageKind, parse_child, parse_page
from devinsider_common.pages.servicer import MembershipRpcs, MembershipServicer
from program_service.adapters import proto_mapping as mapping
from program_service.domain.application import ApplicationState, ApplicationView
from program_service.domain.program import PROGRAM_FIELDS, ProgramState, ProgramType, ProgramView
from program_service.domain.query import ProgramQuery
from program_service.service_layer.app import ProgramApp

COLLECTION = PageKind.PROGRAM.collection
_PROGRAM = (PageKind.PROGRAM,)
_COMPANY = (PageKind.COMPANY,)
_PROGRAM_STATES: dict[int, ProgramState] = {v: k for k, v in mapping.PROGRAM_STATES.items()}
_APPLICATION_STATES: dict[int, ApplicationState] = {v: k for k, v in mapping.APPLICATION_STATES.items()}


def _parent(parent: str) -> str | None:
    """The program id of a `parent`, or None for `programs/-` (across programs)."""
    program_id = parse_page(parent, "parent", _PROGRAM).id
    return None if program_id == "-" else program_id


def _program(view: ProgramView) -> program_pb2.Program:
    return mapping.program_to_proto(view.program, view.role)


def _application(view: ApplicationView) -> program_pb2.Application:
    return mapping.application_to_proto(view.application, view.program_title)


class ProgramServicer(MembershipServicer, program_pb2_grpc.ProgramServiceServicer):
    def __init__(self, app: ProgramApp, access_ttl_seconds: int) -> None:
        self._app = app
        self._membership = MembershipRpcs(
            program_pb2,
            COLLECTION,
            app.members,
            app.invitations,
            app.owners,
            app.programs.titles,
            access_ttl_seconds,
        )

    # Programs.
    def CreateProgram(
        self, request: program_pb2.CreateProgramRequest, context: grpc.ServicerContext
    ) -> program_pb2.Program:
        content = mapping.content_from_proto(request.program)
        return _program(self._app.programs.create(caller(), content, idempotency_key(request.request_id)))

    def GetProgram(self, request: program_pb2.GetProgramRequest, context: grpc.ServicerContext) -> program_pb2.Program:
        return _program(self._app.programs.get(current_principal(), parse_page(request.name, kinds=_PROGRAM).id))

    def ListPrograms(
        self, request: program_pb2.ListProgramsRequest, context: grpc.ServicerContext
    ) -> program_pb2.ListProgramsResponse:
        checks = errors.Violations()
        types = repeated_enum(ProgramType, request.program_types, "program_types", checks)
        states = repeated_enum(_PROGRAM_STATES, request.states, "states", checks)
        for i, code in enumerate(request.country_codes):
            checks.check(
                len(code) == 2 and code.isalpha() and code.isupper(), f"country_codes[{i}]", "ISO 3166-1 alpha-2"
            )
        checks.check(len(request.query) <= 200, "query", "must be at most 200 characters")
        if request.vendor_company:
            try:
                parse_page(request.vendor_company, "vendor_company", _COMPANY)
            except errors.InvalidArgument as error:
                checks.items.extend(error.violations)
        checks.raise_if_any("invalid filters")
        query = ProgramQuery(
            text=request.query.strip(),
            types=tuple(dict.fromkeys(types)),
            country_codes=tuple(request.country_codes),
            industries=tuple(request.industries),
            vendor_company=request.vendor_company,
            states=tuple(dict.fromkeys(states)) or (ProgramState.PUBLISHED,),
            order_by=request.order_by.strip() or "display_name",
            only_member_of=request.caller_is_member,
            orphaned=request.orphaned,
        )
        found, token, total = self._app.programs.list_programs(
            current_principal(), request.page_size, request.page_token, query, request.viewer_page.strip()
        )
        return program_pb2.ListProgramsResponse(
            programs=[_program(v) for v in found], next_page_token=token, total_size=total
        )

    def UpdateProgram(
        self, request: program_pb2.UpdateProgramRequest, context: grpc.ServicerContext
    ) -> program_pb2.Program:
        program_id = parse_page(request.program.name, "program.name", _PROGRAM).id
        fields = resolve_update_mask(request.update_mask, request.program, PROGRAM_FIELDS, "program")
        content = mapping.content_from_proto(request.program)
        return _program(self._app.programs.update(caller(), program_id, content, fields))

    def DeleteProgram(
        self, request: program_pb2.DeleteProgramRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        self._app.programs.delete(caller(), parse_page(request.name, kinds=_PROGRAM).id)
        return empty_pb2.Empty()

    def BatchGetPrograms(
        self, request: program_pb2.BatchGetProgramsRequest, context: grpc.ServicerContext
    ) -> program_pb2.BatchGetProgramsResponse:
        ids = [parse_page(name, f"names[{i}]", _PROGRAM).id for i, name in enumerate(request.names)]
        found = self._app.programs.batch_get(ids)
        return program_pb2.BatchGetProgramsResponse(programs=[mapping.program_to_proto(p) for p in found])

    def PublishProgram(
        self, request: program_pb2.PublishProgramRequest, context: grpc.ServicerContext
    ) -> program_pb2.Program:
        return _program(self._app.programs.publish(caller(), parse_page(request.name, kinds=_PROGRAM).id))

    def ArchiveProgram(
        self, request: program_pb2.ArchiveProgramRequest, context: grpc.ServicerContext
    ) -> program_pb2.Program:
        return _program(self._app.programs.archive(caller(), parse_page(request.name, kinds=_PROGRAM).id))

    # Applications.
    def CreateApplication(
        self, request: program_pb2.CreateApplicationRequest, context: grpc.ServicerContext
    ) -> program_pb2.Application:
        program_id = parse_page(request.parent, "parent", _PROGRAM).id
        company_id = parse_page(request.application.company, "application.company", _COMPANY).id
        created = self._app.applications.create(
            caller(), program_id, company_id, request.application.message, idempotency_key(request.request_id)
        )
        return _application(created)

    @staticmethod
    def _application_name(name: str) -> tuple[str, str]:
        program, application_id = parse_child(name, "applications", kinds=_PROGRAM)
        return program.id, application_id

    def GetApplication(
        self, request: program_pb2.GetApplicationRequest, context: grpc.ServicerContext
    ) -> program_pb2.Application:
        program_id, application_id = self._application_name(request.name)
        return _application(self._app.applications.get(caller(), program_id, application_id))

    def ListApplications(
        self, request: program_pb2.ListApplicationsRequest, context: grpc.ServicerContext
    ) -> program_pb2.ListApplicationsResponse:
        program_id = _parent(request.parent)
        company_id = ""
        if request.company or program_id is None:
            company_id = parse_page(request.company, "company", _COMPANY).id
        state = optional_enum(_APPLICATION_STATES, request.state, "state")
        found, token = self._app.applications.list_applications(
            caller(), program_id, company_id, state, request.page_size, request.page_token
        )
        return program_pb2.ListApplicationsResponse(
            applications=[_application(item) for item in found], next_page_token=token
        )

    def ApproveApplication(
        self, request: program_pb2.ApproveApplicationRequest, context: grpc.ServicerContext
    ) -> program_pb2.Application:
        program_id, application_id = self._application_name(request.name)
        return _application(self._app.applications.approve(caller(), program_id, application_id))

    def RejectApplication(
        self, request: program_pb2.RejectApplicationRequest, context: grpc.ServicerContext
    ) -> program_pb2.Application:
        program_id, application_id = self._application_name(request.name)
        return _application(self._app.applications.reject(caller(), program_id, application_id, request.reason))

    def WithdrawApplication(
        self, request: program_pb2.WithdrawApplicationRequest, context: grpc.ServicerContext
    ) -> program_pb2.Application:
        program_id, application_id = self._application_name(request.name)
        return _application(self._app.applications.withdraw(caller(), program_id, application_id))

    # Members, invitations and the access check: the shared page model's RPCs (MembershipServicer),
    # but for the two named after the page, which delegate to it.
    def LeaveProgram(self, request: program_pb2.LeaveProgramRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        return self._membership.leave(request)

    def AssignProgramOwner(
        self, request: program_pb2.AssignProgramOwnerRequest, context: grpc.ServicerContext
    ) -> program_pb2.Member:
        return self._membership.assign_owner(request)  # type: ignore[no-any-return]

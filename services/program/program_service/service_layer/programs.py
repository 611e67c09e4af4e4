"""Use cases on programs: create, read, list, edit, publish, archive, delete, batch read.

Every write checks the caller's page permission before the program's existence (the shared
`authorize`), so an id of another organisation's program yields PERMISSION_DENIED, never data.
Drafts are NOT_FOUND to everyone but their members, platform staff and services.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.ids import new_id
from devinsider_common.pages.directory_filters import DirectoryFilterGate
from devinsider_common.pages.membership import PageMembers, authorize
from devinsider_common.pages.orphans import check_orphan_filter
from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.pagination import ListLimits, finish_window, list_window
from devinsider_common.unit_of_work import create_once
from program_service.domain.application import ApplicationState
from program_service.domain.program import Program, ProgramContent, ProgramState, ProgramView
from program_service.domain.query import ORDERS, ProgramQuery, position
from program_service.service_layer.ports import Clock, CompanyDirectory, ProgramUnitOfWork, UowFactory

MAX_BATCH = 200


def existing(uow: ProgramUnitOfWork, program_id: str, lock: bool = False) -> Program:
    program = uow.programs.get(program_id, lock=lock)
    if program is None or program.is_deleted:
        raise errors.NotFound(f"programs/{program_id} does not exist", reason="PROGRAM_NOT_FOUND")
    return program


class ProgramUseCases:
    def __init__(
        self,
        uow: UowFactory,
        clock: Clock,
        limits: ListLimits,
        members: PageMembers,
        companies: CompanyDirectory,
        filters: DirectoryFilterGate | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits
        self._members = members
        self._companies = companies
        self._filters = filters or DirectoryFilterGate()

    def _check_vendor(self, principal: Principal, vendor_company: str) -> None:
        """Naming a vendor company page needs the EDIT permission on it (staff and services excepted)."""
        if vendor_company and not principal.is_staff_or_service:
            self._companies.require(vendor_company, principal.subject, PagePermission.EDIT)

    def create(self, principal: Principal, content: ProgramContent, request_id: str) -> ProgramView:
        """A draft owned by the caller; a retry with the same `request_id` returns the first one."""
        content.validate()
        if same := self._created(principal, request_id):
            return same
        self._check_vendor(principal, content.vendor_company)
        now = self._clock()
        program = Program(
            new_id(), content, creator=principal.subject, created_at=now, updated_at=now, idempotency_key=request_id
        )
        owner = self._members.new_member(principal, program.id, PageRole.OWNER)

        def write() -> ProgramView:
            with self._uow() as uow:
                uow.programs.add(program)
                uow.members.add(owner)
                uow.events.program_created(program, principal.subject)
                uow.events.member_added(owner, None)
                uow.commit()
            return ProgramView(program, PageRole.OWNER)

        # A concurrent retry with the same request id won: return its program.
        return create_once(write, lambda: self._created(principal, request_id))

    def _created(self, principal: Principal, request_id: str) -> ProgramView | None:
        """The program the caller already created with `request_id`, if any."""
        if not request_id:
            return None
        with self._uow(read_only=True) as uow:
            same = uow.programs.find_by_request(principal.subject, request_id)
        return ProgramView(same, PageRole.OWNER) if same else None

    def get(self, principal: Principal | None, program_id: str) -> ProgramView:
        with self._uow(read_only=True) as uow:  # one statement: the program and the caller's role
            seen = uow.programs.get_for_viewer(program_id, principal.subject if principal else None)
        staff = principal is not None and principal.is_staff_or_service
        hidden = seen is not None and seen.page.state is ProgramState.DRAFT and seen.role is None and not staff
        if seen is None or seen.page.is_deleted or hidden:
            raise errors.NotFound(f"programs/{program_id} does not exist", reason="PROGRAM_NOT_FOUND")
        return ProgramView(seen.page, seen.role)

    def list_programs(
        self, principal: Principal | None, page_size: int, page_token: str, query: ProgramQuery, viewer_page: str = ""
    ) -> tuple[list[ProgramView], str, int]:
        """A window of the programs the query finds and the caller may see, its next page token and
        the count of all of them; its criteria filters for pages whose plan includes them (`viewer_page`,
        pages.directory_filters)."""
        if query.order_by not in ORDERS:
            raise errors.InvalidArgument.for_field("order_by", f"must be one of: {', '.join(ORDERS)}")
        check_orphan_filter(principal, query.orphaned)
        self._filters.require(principal, viewer_page, query.criteria())
        if query.only_member_of and principal is None:
            raise errors.Unauthenticated("caller_is_member needs a bearer token", reason="TOKEN_MISSING")
        window = list_window(page_size, page_token, self._limits, filters=query.filters())
        staff = principal is not None and principal.is_staff_or_service
        scoped = replace(query, see_all=staff, viewer=principal.subject if principal else None)
        with self._uow(read_only=True) as uow:  # one statement: the window, the caller's roles, the total
            found = uow.programs.list_after(window, scoped)
        items, token = finish_window(window, found.seen, lambda s: position(s.page, query.order_by))
        return [ProgramView(s.page, s.role) for s in items], token, found.total

    def update(
        self, principal: Principal, program_id: str, changes: ProgramContent, fields: frozenset[str]
    ) -> ProgramView:
        with self._uow() as uow:
            member = authorize(uow, program_id, principal, PagePermission.EDIT)
            program = existing(uow, program_id, lock=True)
            updated, changed = program.with_content(changes, fields, self._clock())
            if "vendor_company" in changed:
                self._check_vendor(principal, updated.content.vendor_company)
            if changed:
                updated = uow.programs.save(updated)
                uow.events.program_updated(updated, changed)
                uow.commit()
        return ProgramView(updated, member.role)

    def publish(self, principal: Principal, program_id: str) -> ProgramView:
        return self._transition(principal, program_id, lambda p, now: p.publish(now))

    def archive(self, principal: Principal, program_id: str) -> ProgramView:
        return self._transition(principal, program_id, lambda p, now: p.archive(now))

    def _transition(
        self, principal: Principal, program_id: str, change: Callable[[Program, datetime], Program]
    ) -> ProgramView:
        with self._uow() as uow:
            member = authorize(uow, program_id, principal, PagePermission.EDIT)
            program = existing(uow, program_id, lock=True)
            updated = uow.programs.save(change(program, self._clock()))
            uow.events.program_updated(updated, ["state"])
            uow.commit()
        return ProgramView(updated, member.role)

    def delete(self, principal: Principal, program_id: str) -> None:
        """Soft delete; pending applications are closed (rejected, with the reason and their events)."""
        decider = self._members.reference(principal)
        with self._uow() as uow:
            authorize(uow, program_id, principal, PagePermission.DELETE)
            program = existing(uow, program_id, lock=True)
            now = self._clock()
            deleted = uow.programs.save(program.delete(now))
            for application in uow.applications.pending_of(program_id):
                closed = application.close_for_deleted_program(decider, now)
                uow.applications.save_state(closed)
                recipients = [(application.applicant_email, application.applicant_name)]
                uow.events.application_updated(closed, ApplicationState.PENDING, deleted, recipients)
            uow.events.program_deleted(deleted, decider)
            uow.commit()

    def batch_get(self, program_ids: list[str]) -> list[Program]:
        if len(program_ids) > MAX_BATCH:
            raise errors.InvalidArgument.for_field("names", f"must name at most {MAX_BATCH} programs")
        with self._uow(read_only=True) as uow:
            found = uow.programs.get_many(program_ids)
        return [found[i] for i in dict.fromkeys(program_ids) if i in found]

    def titles(self, program_ids: Collection[str]) -> dict[str, str]:
        """Display names of live programs (for invitation lists across pages)."""
        with self._uow(read_only=True) as uow:
            found = uow.programs.get_many(program_ids)
        return {i: p.content.display_name for i, p in found.items()}

"""Use cases on applications of ISV companies to programs.

Applying and withdrawing need the EDIT permission on the company (asked of the company service);
deciding needs MANAGE_MEMBERS on the program. A program's applications are visible to its members
(VIEW_PRIVATE), a company's to the company's members. Each change publishes an
`odoo_program_member` event and a mail to the other side.
"""

from __future__ import annotations

from devinsider_common import errors, validation
from devinsider_common.auth.principal import Principal
from devinsider_common.errors import Violations
from devinsider_common.ids import new_id
from devinsider_common.pages.membership import authorize, ensure_page
from devinsider_common.pages.roles import PagePermission, PageRole, allows
from devinsider_common.pages.user_directory import user_reference
from devinsider_common.pagination import ListLimits, ListWindow, finish_window, list_window
from devinsider_common.unit_of_work import create_once
from program_service.domain.application import Application, ApplicationState, ApplicationView, Recipient
from program_service.domain.program import ProgramState
from program_service.service_layer.ports import Clock, CompanyDirectory, ProgramUnitOfWork, UowFactory, UserDirectory
from program_service.service_layer.programs import existing

MANAGER_ROLES = (PageRole.OWNER, PageRole.ADMIN)


def _not_found(application_id: str) -> errors.NotFound:
    return errors.NotFound(f"application {application_id} does not exist", reason="APPLICATION_NOT_FOUND")


def _exists(company: str) -> errors.AlreadyExists:
    return errors.AlreadyExists(
        f"{company} already has an open application to this program", reason="APPLICATION_EXISTS"
    )


def _denied() -> errors.PermissionDenied:
    return errors.PermissionDenied("this application is not yours to see or change", reason="PAGE_PERMISSION_DENIED")


def managers(uow: ProgramUnitOfWork, program_id: str) -> list[Recipient]:
    """Owners and admins of the program: who hears of new and withdrawn applications."""
    found = []
    for role in MANAGER_ROLES:
        found += uow.members.list_after(program_id, ListWindow(size=500), role)
    return [(m.email, m.display_name) for m in found]


class ApplicationUseCases:
    def __init__(
        self, uow: UowFactory, clock: Clock, limits: ListLimits, companies: CompanyDirectory, users: UserDirectory
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits
        self._companies = companies
        self._users = users

    def create(
        self, principal: Principal, program_id: str, company_id: str, message: str, request_id: str
    ) -> ApplicationView:
        """A pending application of the company (the caller needs EDIT on it); a retry with the same
        `request_id` returns the first one."""
        checks = Violations()
        validation.text(checks, "application.message", message, max_len=2000)
        checks.raise_if_any("invalid application")
        if same := self._created(principal, program_id, request_id):
            return same
        company = f"companies/{company_id}"
        if not principal.is_admin:
            self._companies.require(company, principal.subject, PagePermission.EDIT)
        who = self._users.describe(principal)
        company_name = self._companies.display_name(company)

        def write() -> ApplicationView:
            with self._uow() as uow:
                program = existing(uow, program_id)
                member = uow.members.get(program_id, principal.subject)
                if program.state is ProgramState.DRAFT and member is None and not principal.is_admin:
                    raise errors.NotFound(f"programs/{program_id} does not exist", reason="PROGRAM_NOT_FOUND")
                program.check_open_to_applications()
                if uow.applications.open_for(program_id, company_id) is not None:
                    raise _exists(company)
                application = Application(
                    id=new_id(),
                    program_id=program_id,
                    company_id=company_id,
                    applicant_subject=principal.subject,
                    message=message.strip(),
                    applicant=who.user or principal.subject,
                    applicant_email=who.email,
                    applicant_name=who.display_name,
                    company_display_name=company_name,
                    created_at=self._clock(),
                    idempotency_key=request_id,
                )
                uow.applications.add(application)
                uow.events.application_created(application, program, managers(uow, program_id))
                uow.commit()
            return ApplicationView(application, program.content.display_name)

        # A concurrent twin won a unique key: the same retry (return it), or another open
        # application of the company (ALREADY_EXISTS).
        return create_once(
            write, lambda: self._created(principal, program_id, request_id), lambda error: _exists(company)
        )

    def _created(self, principal: Principal, program_id: str, request_id: str) -> ApplicationView | None:
        """The application the caller already made to the program with `request_id`, if any."""
        if not request_id:
            return None
        with self._uow(read_only=True) as uow:
            same = uow.applications.find_by_request(principal.subject, request_id)
            if same is None or same.program_id != program_id:
                return None
            return ApplicationView(same, uow.page_title(program_id) or "")

    def get(self, principal: Principal, program_id: str, application_id: str) -> ApplicationView:
        with self._uow(read_only=True) as uow:
            member = uow.members.get(program_id, principal.subject)
            program_side = principal.is_staff_or_service or (
                member is not None and allows(member.role, PagePermission.VIEW_PRIVATE)
            )
            application = uow.applications.get(application_id)
            title = uow.page_title(program_id)
        found = application is not None and application.program_id == program_id and title is not None
        if program_side:
            if not found or application is None:
                raise _not_found(application_id)
            return ApplicationView(application, title or "")
        # The company's side: a stranger learns nothing, not even whether the id exists.
        if not found or application is None:
            raise _denied()
        allowed, _ = self._companies.role(application.company, principal.subject, PagePermission.VIEW_PRIVATE)
        if not allowed:
            raise _denied()
        return ApplicationView(application, title or "")

    def list_applications(
        self,
        principal: Principal,
        program_id: str | None,
        company_id: str,
        state: ApplicationState | None,
        page_size: int,
        page_token: str,
    ) -> tuple[list[ApplicationView], str]:
        """A program's applications (its members), or with `program_id` None a company's (its members)."""
        filters = {"program": program_id or "-", "company": company_id, "state": state.value if state else ""}
        window = list_window(page_size, page_token, self._limits, filters=filters)
        if program_id is None and not principal.is_staff_or_service:
            self._companies.require(f"companies/{company_id}", principal.subject, PagePermission.VIEW_PRIVATE)
        with self._uow(read_only=True) as uow:
            if program_id is not None:
                authorize(uow, program_id, principal, PagePermission.VIEW_PRIVATE)
                ensure_page(uow, program_id)
            found = uow.applications.list_after(window, program_id, company_id or None, state)
            programs = uow.programs.get_many({a.program_id for a in found})
        items, token = finish_window(window, found)
        titles = {i: p.content.display_name for i, p in programs.items()}
        return [ApplicationView(a, titles.get(a.program_id, "")) for a in items], token

    def approve(self, principal: Principal, program_id: str, application_id: str) -> ApplicationView:
        return self._decide(principal, program_id, application_id, approve=True)

    def reject(self, principal: Principal, program_id: str, application_id: str, reason: str) -> ApplicationView:
        checks = Violations()
        validation.text(checks, "reason", reason.strip(), max_len=2000, required=True)
        checks.raise_if_any("invalid rejection")
        return self._decide(principal, program_id, application_id, approve=False, reason=reason)

    def _decide(
        self, principal: Principal, program_id: str, application_id: str, approve: bool, reason: str = ""
    ) -> ApplicationView:
        decider = user_reference(self._users, principal)
        with self._uow() as uow:
            authorize(uow, program_id, principal, PagePermission.MANAGE_MEMBERS)
            program = existing(uow, program_id, lock=True)
            application = uow.applications.get(application_id, lock=True)
            if application is None or application.program_id != program_id:
                raise _not_found(application_id)
            now = self._clock()
            if approve:
                decided = application.approve(decider, now)
                program = uow.programs.save(program.with_member_companies(+1, now))
            else:
                decided = application.reject(decider, reason, now)
            uow.applications.save_state(decided)
            recipients = [(application.applicant_email, application.applicant_name)]
            uow.events.application_updated(decided, application.state, program, recipients)
            uow.commit()
        return ApplicationView(decided, program.content.display_name)

    def withdraw(self, principal: Principal, program_id: str, application_id: str) -> ApplicationView:
        with self._uow(read_only=True) as uow:
            application = uow.applications.get(application_id)
        if application is None or application.program_id != program_id:
            raise _not_found(application_id) if principal.is_admin else _denied()
        if not principal.is_admin:
            self._companies.require(application.company, principal.subject, PagePermission.EDIT)
        decider = user_reference(self._users, principal)
        with self._uow() as uow:
            program = uow.programs.get(program_id, lock=True)
            current = uow.applications.get(application_id, lock=True)
            if program is None or current is None:
                raise _not_found(application_id)
            withdrawn = current.withdraw(decider, self._clock())
            uow.applications.save_state(withdrawn)
            uow.events.application_updated(withdrawn, current.state, program, managers(uow, program_id))
            uow.commit()
        return ApplicationView(withdrawn, program.content.display_name)

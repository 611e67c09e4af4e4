"""A small world of programs, members, companies and applications, built through the use cases on
the in-memory unit of work (no I/O), and the callers of the permission matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from devinsider_common.auth.principal import Principal
from devinsider_common.pages.departures import AccountDeletions
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.clock import FakeClock
from devinsider_common.testing.entitlements import FakeEntitlements
from devinsider_common.testing.memory import MemoryStore, MemoryUsers
from devinsider_common.testing.pages import user_deleted
from devinsider_common.testing.tokens import principal
from program_service.bootstrap import build_app
from program_service.domain.application import ApplicationView
from program_service.domain.program import ProgramContent, ProgramType, ProgramView
from program_service.service_layer.app import ProgramApp
from program_service.service_layer.ports import UowFactory
from program_service.service_layer.unit_of_work import SOURCE
from program_service.settings import ProgramSettings

from .fakes import FakeCompanies, FakeProgramUnitOfWork, FakeUsers, published

COMPANY_ID, OTHER_COMPANY_ID = "c-acme", "c-globex"
COMPANY, OTHER_COMPANY = f"companies/{COMPANY_ID}", f"companies/{OTHER_COMPANY_ID}"
CALLERS = (
    "anonymous",
    "isv",
    "stranger",
    "staff",
    "service",
    "owner",
    "admin",
    "editor",
    "viewer",
    "other_owner",
    "co_editor",
    "co_viewer",
)
ROLES = {
    "isv": ("isv",),
    "staff": ("admin",),
    "service": ("service",),
    "co_editor": ("isv",),
    "co_viewer": ("isv",),
    "invitee": ("isv",),
}
MEMBER_ROLES = {"admin": PageRole.ADMIN, "editor": PageRole.EDITOR, "viewer": PageRole.VIEWER}
GOOD = ProgramContent(display_name="Azure Partners", vendor_name="Microsoft", program_type=ProgramType.TECHNOLOGY)


def content(**fields: Any) -> ProgramContent:
    values = {
        "display_name": GOOD.display_name,
        "vendor_name": GOOD.vendor_name,
        "program_type": GOOD.program_type,
    } | fields
    return ProgramContent(**values)


def subject(name: str) -> str:
    return "service-matching" if name == "service" else f"kc-{name}"


def settings(**overrides: Any) -> ProgramSettings:
    return ProgramSettings(**overrides)


@dataclass
class Stage:
    """The program app on a fresh in-memory store, with its fakes."""

    store: MemoryStore = field(default_factory=MemoryStore)
    clock: FakeClock = field(default_factory=FakeClock)
    companies: FakeCompanies = field(default_factory=FakeCompanies)
    users: FakeUsers = field(default_factory=FakeUsers)
    directory: MemoryUsers = field(default_factory=MemoryUsers)  # the user service's users, by name
    settings: ProgramSettings = field(default_factory=settings)
    entitlements: FakeEntitlements | None = None  # billing's word on the pages' plans; none: not enforced
    app: ProgramApp = field(init=False)
    serial: int = 0

    def __post_init__(self) -> None:
        store = self.store
        self.app = self.app_on(partial(FakeProgramUnitOfWork, store))

    def app_on(self, uow: UowFactory) -> ProgramApp:
        """The same use cases (same store, clock and fakes) on another unit of work."""
        return build_app(self.settings, uow, self.clock, self.companies, self.users, self.directory, self.entitlements)

    def unique(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def who(self, name: str) -> Principal:
        return principal(subject(name), ROLES.get(name, ("program",)))

    def caller(self, name: str) -> Principal | None:
        return None if name == "anonymous" else self.who(name)

    def create_program(self, who: str = "owner", publish: bool = False, **fields: Any) -> str:
        """A new program's id."""
        program_id = self.app.programs.create(self.who(who), content(**fields), "").program.id
        if publish:
            self.app.programs.publish(self.who(who), program_id)
        return program_id

    def invite(self, program_id: str, email: str, role: PageRole, who: str = "owner") -> tuple[str, str]:
        """(invitation id, the one-time token its mail carries)."""
        invitation = self.app.invitations.create(self.who(who), program_id, email, role, "")
        return invitation.id, self.mailed_token(invitation.id)

    def mailed_token(self, invitation_id: str) -> str:
        for event in published(self.store, "invitation_sent"):
            if event.args[0].id == invitation_id:
                return str(event.args[1])
        raise AssertionError(f"no invitation mail for {invitation_id}")

    def add_member(self, program_id: str, who: str, role: PageRole, inviter: str = "owner") -> None:
        invitation_id, token = self.invite(program_id, f"{subject(who)}@example.com", role, inviter)
        self.app.invitations.accept(self.who(who), program_id, invitation_id, token)

    def apply(self, program_id: str, company_id: str = COMPANY_ID, who: str = "co_editor") -> ApplicationView:
        return self.app.applications.create(self.who(who), program_id, company_id, "we integrate", "")

    def view(self, program_id: str, who: str = "staff") -> ProgramView:
        return self.app.programs.get(self.who(who), program_id)

    def orphaned_program(self) -> str:
        """A published program whose sole member, its owner `kc-solo`, deleted their account an hour
        after creating it: the departure (`<service>.user-deletions`) marked it orphaned."""
        program_id = self.create_program(who="solo", publish=True)
        self.clock.advance(hours=1)
        departures = AccountDeletions(SOURCE, lambda: FakeProgramUnitOfWork(self.store), self.clock)
        assert departures(user_deleted(departures.queue.name, "kc-solo"))
        return program_id


@dataclass
class World(Stage):
    published_id: str = ""  # owned by `owner`, with admin/editor/viewer members
    draft_id: str = ""
    other_id: str = ""  # owned by `other_owner`
    application_id: str = ""  # a pending application of COMPANY to `published_id`


def build_world() -> World:
    world = World()
    world.published_id = world.create_program(publish=True)
    world.draft_id = world.create_program(display_name="Secret Draft")
    for program_id in (world.published_id, world.draft_id):
        for who, role in MEMBER_ROLES.items():
            world.add_member(program_id, who, role)
    world.other_id = world.create_program("other_owner", publish=True, display_name="Globex Partners")
    world.companies.grant(COMPANY, "kc-co_editor", PageRole.EDITOR)
    world.companies.grant(COMPANY, "kc-co_viewer", PageRole.VIEWER)
    world.companies.grant(OTHER_COMPANY, "kc-isv", PageRole.OWNER)
    world.companies.names[COMPANY] = "Acme Software"
    world.application_id = world.apply(world.published_id).application.id
    return world

"""A small world of programs, members, companies and applications built through the public API,
and the callers of the permission matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from devinsider.common.v1 import mail_pb2
from devinsider.program.v1 import program_pb2, program_pb2_grpc
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from devinsider_common.pages.roles import PageRole
from program_service.bootstrap import ProgramService

from .company_double import CompanyDouble
from .conftest import Metadata, TokenFactory, bearer, new_program

COMPANY = "companies/c-acme"
OTHER_COMPANY = "companies/c-globex"
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


@dataclass
class World:
    stub: program_pb2_grpc.ProgramServiceStub
    service: ProgramService
    company: CompanyDouble
    token: TokenFactory
    auth: dict[str, Metadata] = field(default_factory=dict)
    published: str = ""  # programs/{id}, owned by `owner`, with admin/editor/viewer members
    draft: str = ""
    other: str = ""  # owned by `other_owner`
    application: str = ""  # a pending application of COMPANY to `published`
    serial: int = 0

    def unique(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def caller(self, name: str) -> Metadata:
        if name == "anonymous":
            return ()
        if name not in self.auth:
            subject = "service-matching" if name == "service" else f"kc-{name}"
            self.auth[name] = bearer(self.token(subject, roles=ROLES.get(name, ("program",))))
        return self.auth[name]

    def subject(self, name: str) -> str:
        return "service-matching" if name == "service" else f"kc-{name}"

    def create_program(self, who: str = "owner", publish: bool = False, **fields: object) -> str:
        request = program_pb2.CreateProgramRequest(program=new_program(**fields))
        name = self.stub.CreateProgram(request, metadata=self.caller(who)).name
        if publish:
            self.stub.PublishProgram(program_pb2.PublishProgramRequest(name=name), metadata=self.caller(who))
        return name

    def invite(self, program: str, email: str, role: int, who: str = "owner") -> tuple[str, str]:
        """(invitation name, one-time token read from the mail event in the outbox)."""
        invitation = program_pb2.Invitation(email=email, role=role)  # type: ignore[arg-type]
        request = program_pb2.CreateInvitationRequest(parent=program, invitation=invitation)
        name = self.stub.CreateInvitation(request, metadata=self.caller(who)).name
        return name, mailed_token(self.service, name)

    def add_member(self, program: str, who: str, role: PageRole) -> None:
        name, token = self.invite(program, f"{self.subject(who)}@example.com", int(role))
        self.stub.AcceptInvitation(
            program_pb2.AcceptInvitationRequest(name=name, token=token), metadata=self.caller(who)
        )

    def apply(self, program: str, company: str = COMPANY, who: str = "co_editor") -> str:
        application = program_pb2.Application(company=company, message="we integrate")
        request = program_pb2.CreateApplicationRequest(parent=program, application=application)
        return self.stub.CreateApplication(request, metadata=self.caller(who)).name


def mailed_token(service: ProgramService, invitation_name: str) -> str:
    """The token the invitation mail carries (what the invitee clicks), read from the outbox."""
    with service.engine.connect() as connection:
        rows = connection.execute(
            select(outbox_messages.c.body).where(outbox_messages.c.event_type == "devinsider.common.v1.MailRequested")
        ).scalars()
        for body in rows:
            mail = unpack_payload(from_json(body), mail_pb2.MailRequested)
            if mail.template != "program_invitation":
                continue
            query = parse_qs(urlparse(mail.variables["accept_url"]).query)
            if query["invitation"] == [invitation_name]:
                return query["token"][0]
    raise AssertionError(f"no invitation mail for {invitation_name}")


def build_world(
    stub: program_pb2_grpc.ProgramServiceStub, service: ProgramService, company: CompanyDouble, token: TokenFactory
) -> World:
    world = World(stub, service, company, token)
    world.published = world.create_program(publish=True)
    world.draft = world.create_program(display_name="Secret Draft")
    for program in (world.published, world.draft):
        for who, role in MEMBER_ROLES.items():
            world.add_member(program, who, role)
    world.other = world.create_program("other_owner", publish=True, display_name="Globex Partners")
    company.grant(COMPANY, "kc-co_editor", PageRole.EDITOR)
    company.grant(COMPANY, "kc-co_viewer", PageRole.VIEWER)
    company.grant(OTHER_COMPANY, "kc-isv", PageRole.OWNER)
    company.names[COMPANY] = "Acme Software"
    world.application = world.apply(world.published)
    return world

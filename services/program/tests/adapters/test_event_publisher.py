"""The program service's events as its outbox gets them (`adapters.event_publisher`): the events a
world of programs, members and applications published through the use cases (recorded by the
fake unit of work) replayed into the real publisher, on a recording outbox (no I/O). The relay of
those rows to RabbitMQ is `tests/integration/test_events.py`."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qs, urlparse

from devinsider.common.v1 import mail_pb2
from devinsider.program.v1 import events_pb2, program_pb2
from devinsider_common.outbox import topology
from devinsider_common.outbox.writer import OutboxWriter
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.outbox import OutboxRow as Row
from devinsider_common.testing.outbox import RecordingOutbox
from program_service.adapters.event_publisher import ProgramEventPublisher

from ..fakes import published
from ..world import COMPANY, Stage, build_world

ACCEPT_URL = "https://app.example.com/invitations/accept"


def _outbox_of(world: Stage) -> list[Row]:
    outbox = RecordingOutbox()
    publisher = ProgramEventPublisher(cast(OutboxWriter, outbox), ACCEPT_URL)
    for event in published(world.store):
        getattr(publisher, event.kind)(*event.args)  # the fake records the publisher's own calls
    return outbox.rows


def _of(rows: list[Row], exchange: str) -> list[Row]:
    return [r for r in rows if r.exchange == exchange]


def _types(rows: list[Row]) -> dict[str, int]:
    names = [r.event.DESCRIPTOR.name for r in rows]
    return {name: names.count(name) for name in names}


def test_programs_members_invitations_and_applications_reach_their_exchanges() -> None:
    world = build_world()
    world.app.applications.approve(world.who("owner"), world.published_id, world.application_id)
    invitation_id, token = world.invite(world.published_id, "zoe@example.com", PageRole.VIEWER)
    rows = _outbox_of(world)
    for row in rows:
        assert row.routing_key == topology.direct_routing_key(row.exchange)

    # 3 programs created, 2 published, 9 members added (3 owners, 6 by invitation), 7 invitations sent, 6 accepted
    programs = _of(rows, topology.ODOO_PROGRAM)
    assert _types(programs) == {
        "ProgramCreated": 3,
        "ProgramUpdated": 2,
        "MemberAdded": 9,
        "InvitationSent": 7,
        "InvitationChanged": 6,
    }
    created = cast(events_pb2.ProgramCreated, programs[0].event)
    assert (created.program.display_name, created.creator, programs[0].external_id) == (
        "Azure Partners",
        "kc-owner",
        f"programs/{world.published_id}",
    )
    sent = [cast(events_pb2.InvitationSent, r.event) for r in programs if r.event.DESCRIPTOR.name == "InvitationSent"]
    zoe = f"programs/{world.published_id}/invitations/{invitation_id}"
    assert zoe in [s.invitation.name for s in sent]
    assert all(token not in str(r.event) for r in programs)  # the token never goes to Odoo

    application = f"programs/{world.published_id}/applications/{world.application_id}"
    members = _of(rows, topology.ODOO_PROGRAM_MEMBER)
    assert [(r.event.DESCRIPTOR.name, r.external_id) for r in members] == [
        ("ApplicationCreated", application),
        ("ApplicationUpdated", application),
    ]
    updated = cast(events_pb2.ApplicationUpdated, members[1].event)
    assert updated.previous_state == program_pb2.APPLICATION_STATE_PENDING
    assert (updated.application.state, updated.application.company) == (program_pb2.APPLICATION_STATE_APPROVED, COMPANY)
    assert updated.application.program_display_name == "Azure Partners"

    mails = [cast(mail_pb2.MailRequested, r.event) for r in _of(rows, topology.MAIL)]
    assert len(mails) == 10
    by_template: dict[str, list[mail_pb2.MailRequested]] = {}
    for mail in mails:
        by_template.setdefault(mail.template, []).append(mail)
    received = by_template["program_application_received"]
    assert sorted(m.to_email for m in received) == ["kc-admin@example.com", "kc-owner@example.com"]
    assert received[0].variables["company_display_name"] == "Acme Software"
    assert [m.to_email for m in by_template["program_application_approved"]] == ["kc-co_editor@example.com"]
    invited = [m for m in by_template["program_invitation"] if m.to_email == "zoe@example.com"]
    assert len(invited) == 1
    variables: Any = invited[0].variables
    link = parse_qs(urlparse(variables["accept_url"]).query)
    assert variables["accept_url"].startswith(ACCEPT_URL) and link == {"invitation": [zoe], "token": [token]}
    assert (variables["page_display_name"], variables["role"], variables["inviter_name"]) == (
        "Azure Partners",
        "viewer",
        "Ada Lovelace",
    )


def test_role_changes_removals_closed_invitations_withdrawals_and_deletions_are_published() -> None:
    world = build_world()
    owner = world.who("owner")
    world.app.members.change_role(owner, world.published_id, "kc-editor", PageRole.ADMIN)
    world.app.members.remove(owner, world.published_id, "kc-viewer")
    world.app.members.leave(world.who("admin"), world.published_id)
    invitation_id, _ = world.invite(world.published_id, "ivy@example.com", PageRole.VIEWER)
    world.app.invitations.revoke(owner, world.published_id, invitation_id)
    world.app.applications.withdraw(world.who("co_editor"), world.published_id, world.application_id)
    world.app.programs.delete(world.who("other_owner"), world.other_id)
    tail = _outbox_of(world)[-10:]
    assert [(r.exchange, r.event.DESCRIPTOR.name) for r in tail] == [
        (topology.ODOO_PROGRAM, "MemberUpdated"),
        (topology.ODOO_PROGRAM, "MemberRemoved"),
        (topology.ODOO_PROGRAM, "MemberRemoved"),
        (topology.ODOO_PROGRAM, "InvitationSent"),
        (topology.MAIL, "MailRequested"),
        (topology.ODOO_PROGRAM, "InvitationChanged"),
        (topology.ODOO_PROGRAM_MEMBER, "ApplicationUpdated"),
        (topology.MAIL, "MailRequested"),
        (topology.MAIL, "MailRequested"),
        (topology.ODOO_PROGRAM, "ProgramDeleted"),
    ]
    events: list[Any] = [r.event for r in tail]
    assert (events[0].previous_role, events[0].member.role) == (PageRole.EDITOR, PageRole.ADMIN)
    assert events[0].member.name == f"programs/{world.published_id}/members/kc-editor"
    assert [events[1].reason, events[2].reason] == [
        events_pb2.MEMBER_REMOVAL_REASON_REMOVED,
        events_pb2.MEMBER_REMOVAL_REASON_LEFT,
    ]
    assert events[5].previous_state == 1 and events[5].invitation.name.endswith(f"/invitations/{invitation_id}")
    assert events[5].invitation.state == 4  # revoked
    assert events[6].application.state == program_pb2.APPLICATION_STATE_WITHDRAWN
    # The program's managers hear of a withdrawal: its owner and its new admin (the old one left).
    assert [(m.template, m.to_email) for m in events[7:9]] == [
        ("program_application_withdrawn", "kc-owner@example.com"),
        ("program_application_withdrawn", "kc-editor@example.com"),
    ]
    assert tail[7].external_id == f"mail:program_application_withdrawn:{tail[6].external_id}:kc-owner@example.com"
    assert (events[9].name, events[9].deleter) == (f"programs/{world.other_id}", "kc-other_owner")


def test_mails_go_only_to_recipients_with_an_address() -> None:
    world = build_world()
    outbox = RecordingOutbox()
    publisher = ProgramEventPublisher(cast(OutboxWriter, outbox), ACCEPT_URL)
    application = world.store.tables["applications"][world.application_id]
    program = world.store.tables["programs"][world.published_id]
    recipients = [("", "A service account"), ("ann@example.com", "Ann"), ("ann@example.com", "Ann")]
    publisher.application_created(application, program, recipients)
    assert [(r.exchange, getattr(r.event, "to_email", "")) for r in outbox.rows] == [
        (topology.ODOO_PROGRAM_MEMBER, ""),
        (topology.MAIL, "ann@example.com"),  # once per address
    ]


def test_the_orphan_mark_reaches_odoo_with_the_program() -> None:
    """An orphaned program's ProgramUpdated names `orphan_time` and carries it (the CRM and matching learn it)."""
    stage = Stage()
    program_id = stage.orphaned_program()
    updated = [r.event for r in _outbox_of(stage) if isinstance(r.event, events_pb2.ProgramUpdated)]
    (marked,) = [e for e in updated if list(e.changed_fields) == ["orphan_time"]]
    assert marked.program.name == f"programs/{program_id}"
    assert marked.program.orphan_time.ToDatetime(tzinfo=stage.clock().tzinfo) == stage.clock()

"""The application use cases on the in-memory unit of work (no I/O): the state machine, one open
application per company, idempotency, visibility to both sides, the company service's answers
(and its outage), and the events and mails each change publishes."""

from __future__ import annotations

from typing import Any

import grpc

from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure
from program_service.domain.application import ApplicationState, ApplicationView

from ..fakes import Race, published
from ..world import COMPANY, COMPANY_ID, World, build_world

PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
EXISTS = Failure(grpc.StatusCode.ALREADY_EXISTS, "APPLICATION_EXISTS")
NOT_PENDING = Failure(PRECONDITION, "APPLICATION_NOT_PENDING")
MANAGERS = [("kc-owner@example.com", "Ada Lovelace"), ("kc-admin@example.com", "Ada Lovelace")]
APPLICANT = [("kc-co_editor@example.com", "Ada Lovelace")]


def _stored(world: World, application_id: str) -> Any:
    return world.store.tables["applications"][application_id]


def test_apply_records_who_applied_and_tells_the_program_managers() -> None:
    world = build_world()
    view = world.app.applications.get(world.who("co_viewer"), world.published_id, world.application_id)
    application = view.application
    assert (application.company, application.state, view.program_title) == (
        COMPANY,
        ApplicationState.PENDING,
        "Azure Partners",
    )
    assert (application.company_display_name, application.applicant, application.message) == (
        "Acme Software",
        "kc-co_editor",
        "we integrate",
    )
    assert (application.applicant_email, application.created_at) == ("kc-co_editor@example.com", world.clock.now)
    created = published(world.store, "application_created")
    assert [(e.args[0], e.args[1].id, e.args[2]) for e in created] == [(application, world.published_id, MANAGERS)]
    world.users.known["kc-co_editor"] = "u-7"  # with a user service, records name users/{id}
    fresh = world.create_program(publish=True)
    assert world.apply(fresh).application.applicant == "users/u-7"


def test_one_open_application_per_company_and_program() -> None:
    world = build_world()
    assert failure(lambda: world.apply(world.published_id)) == EXISTS
    owner = world.who("owner")
    approved = world.app.applications.approve(owner, world.published_id, world.application_id)
    assert approved == ApplicationView(_stored(world, world.application_id), "Azure Partners")
    assert (approved.application.state, approved.application.decided_at) == (ApplicationState.APPROVED, world.clock.now)
    assert approved.application.decider == "kc-owner"
    assert world.view(world.published_id).program.member_company_count == 1
    assert failure(lambda: world.apply(world.published_id)) == EXISTS  # an approved company is still "open"
    for decide in (
        lambda: world.app.applications.approve(owner, world.published_id, world.application_id),
        lambda: world.app.applications.reject(owner, world.published_id, world.application_id, "late"),
        lambda: world.app.applications.withdraw(world.who("co_editor"), world.published_id, world.application_id),
    ):
        assert failure(decide) == NOT_PENDING
    updated = published(world.store, "application_updated")
    assert [(e.args[0].state, e.args[1], e.args[3]) for e in updated] == [
        (ApplicationState.APPROVED, ApplicationState.PENDING, APPLICANT)
    ]
    members, _ = world.app.applications.list_applications(
        owner, world.published_id, "", ApplicationState.APPROVED, 0, ""
    )
    assert [v.application.id for v in members] == [world.application_id]


def test_reject_needs_a_reason_and_a_withdrawn_company_may_apply_again() -> None:
    world = build_world()
    owner, co_editor = world.who("owner"), world.who("co_editor")
    blank = failure(lambda: world.app.applications.reject(owner, world.published_id, world.application_id, " "))
    assert blank.fields == ["reason"]
    withdrawn = world.app.applications.withdraw(co_editor, world.published_id, world.application_id).application
    assert (withdrawn.state, withdrawn.decider) == (ApplicationState.WITHDRAWN, "kc-co_editor")
    assert published(world.store, "application_updated")[-1].args[3] == MANAGERS  # the managers hear of it
    again = world.apply(world.published_id).application
    rejected = world.app.applications.reject(owner, world.published_id, again.id, "not now").application
    assert (rejected.state, rejected.rejection_reason) == (ApplicationState.REJECTED, "not now")
    assert world.view(world.published_id).program.member_company_count == 0
    listed, token = world.app.applications.list_applications(world.who("co_viewer"), None, COMPANY_ID, None, 0, "")
    assert [v.application.id for v in listed] == [again.id, world.application_id] and token == ""  # newest first
    assert [v.program_title for v in listed] == ["Azure Partners"] * 2


def test_only_published_programs_take_applications() -> None:
    world = build_world()
    draft = failure(lambda: world.apply(world.draft_id))  # a draft does not exist for the applicant
    assert draft == Failure(grpc.StatusCode.NOT_FOUND, "PROGRAM_NOT_FOUND")
    member_of_draft = failure(lambda: world.apply(world.draft_id, who="staff"))  # staff see it: not published
    assert member_of_draft == Failure(PRECONDITION, "PROGRAM_NOT_PUBLISHED")
    world.app.programs.archive(world.who("other_owner"), world.other_id)
    assert failure(lambda: world.apply(world.other_id)) == Failure(PRECONDITION, "PROGRAM_NOT_PUBLISHED")
    assert failure(lambda: world.apply("missing")).reason == "PROGRAM_NOT_FOUND"


def test_bad_input_and_idempotent_retries() -> None:
    world = build_world()
    co_editor = world.who("co_editor")
    long = failure(lambda: world.app.applications.create(co_editor, world.published_id, COMPANY_ID, "m" * 2001, ""))
    assert long.fields == ["application.message"]
    world.app.applications.withdraw(co_editor, world.published_id, world.application_id)
    first = world.app.applications.create(co_editor, world.published_id, COMPANY_ID, " hello ", "k1")
    assert first.application.message == "hello" and first.program_title == "Azure Partners"
    commits = world.store.commits
    assert world.app.applications.create(co_editor, world.published_id, COMPANY_ID, "", "k1") == first
    assert world.store.commits == commits
    other = world.create_program(publish=True)  # the same key for another program is another request
    assert failure(lambda: world.app.applications.create(co_editor, other, COMPANY_ID, "", "k1")) == EXISTS


def test_a_concurrent_twin_is_returned_and_a_concurrent_rival_refused() -> None:
    world = build_world()
    co_editor = world.who("co_editor")
    world.app.applications.withdraw(co_editor, world.published_id, world.application_id)
    twin: list[ApplicationView] = []

    def same_request() -> None:
        twin.append(world.app.applications.create(co_editor, world.published_id, COMPANY_ID, "", "k1"))

    racing = world.app_on(Race(world.store, same_request).uow)
    assert racing.applications.create(co_editor, world.published_id, COMPANY_ID, "", "k1") == twin[0]
    fresh = world.create_program(publish=True)
    racing = world.app_on(Race(world.store, lambda: world.apply(fresh)).uow)
    assert failure(lambda: racing.applications.create(co_editor, fresh, COMPANY_ID, "", "")) == EXISTS
    assert len([a for a in world.store.tables["applications"].values() if a.program_id == fresh]) == 1


def test_the_company_side_needs_the_company_service() -> None:
    world = build_world()
    world.companies.down = True
    fresh = world.create_program(publish=True)
    assert failure(lambda: world.apply(fresh)).code == grpc.StatusCode.UNAVAILABLE
    co_viewer = world.who("co_viewer")
    assert failure(lambda: world.app.applications.get(co_viewer, world.published_id, world.application_id)).code == (
        grpc.StatusCode.UNAVAILABLE
    )
    # The program's side does not ask: its members still read the application.
    viewer = world.app.applications.get(world.who("viewer"), world.published_id, world.application_id)
    assert viewer.application.id == world.application_id
    world.companies.down = False
    staff = world.apply(fresh, "c-nameless", who="staff").application  # staff apply for any company
    assert staff.company_display_name == "" and staff.applicant == "kc-staff"


def test_strangers_learn_nothing_of_an_application() -> None:
    world = build_world()
    denied = Failure(grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
    isv = world.who("isv")
    assert failure(lambda: world.app.applications.get(isv, world.published_id, world.application_id)) == denied
    assert failure(lambda: world.app.applications.get(isv, world.published_id, "missing")) == denied
    assert failure(lambda: world.app.applications.get(isv, world.other_id, world.application_id)) == denied
    missing = Failure(grpc.StatusCode.NOT_FOUND, "APPLICATION_NOT_FOUND")
    owner = world.who("owner")
    assert failure(lambda: world.app.applications.get(owner, world.published_id, "missing")) == missing
    assert failure(lambda: world.app.applications.approve(owner, world.published_id, "missing")) == missing
    assert failure(lambda: world.app.applications.withdraw(isv, world.published_id, "missing")) == denied
    staff = world.who("staff")
    assert failure(lambda: world.app.applications.withdraw(staff, world.published_id, "missing")) == missing
    gone = failure(lambda: world.app.applications.list_applications(staff, "missing", "", None, 0, ""))
    assert gone == Failure(grpc.StatusCode.NOT_FOUND, "PAGE_NOT_FOUND")  # staff may know it does not exist
    assert failure(lambda: world.app.applications.list_applications(owner, "missing", "", None, 0, "")) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED"
    )
    world.companies.grant(COMPANY, "kc-isv", PageRole.VIEWER)  # a new member of the company sees it
    assert world.app.applications.get(isv, world.published_id, world.application_id).application.company == COMPANY


def test_listing_applications_walks_windows() -> None:
    world = build_world()
    owner = world.who("owner")
    ids = [world.application_id]
    for i in range(4):
        company = f"c-{i}"
        world.companies.grant(f"companies/{company}", "kc-co_editor", PageRole.EDITOR)
        ids.append(world.apply(world.published_id, company).application.id)
    seen, token = [], ""
    while True:
        found, token = world.app.applications.list_applications(owner, world.published_id, "", None, 2, token)
        seen += [v.application.id for v in found]
        if not token:
            break
    assert seen == sorted(ids, reverse=True)
    pending, _ = world.app.applications.list_applications(
        owner, world.published_id, "", ApplicationState.REJECTED, 0, ""
    )
    assert pending == []

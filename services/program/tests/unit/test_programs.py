"""The program use cases on the in-memory unit of work (no I/O): creation and its idempotency,
visibility, editing, the lifecycle, deletion, listing and batch reads, and what each publishes."""

from __future__ import annotations

from typing import Any

import grpc

from devinsider_common.pages.roles import PagePermission, PageRole
from devinsider_common.testing.failures import Failure, failure
from program_service.domain.application import PROGRAM_DELETED_REASON, ApplicationState
from program_service.domain.program import ProgramContent, ProgramState, ProgramType
from program_service.domain.query import ProgramQuery

from ..fakes import Race, published
from ..world import COMPANY, Stage, build_world, content, settings

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = Failure(grpc.StatusCode.NOT_FOUND, "PROGRAM_NOT_FOUND")


def test_create_stores_a_draft_owned_by_the_caller_and_publishes_it() -> None:
    stage = Stage()
    olga = stage.who("olga")
    view = stage.app.programs.create(olga, content(benefits=("Co-selling",), country_codes=("FR",)), "")
    program = view.program
    assert (program.state, view.role, program.creator) == (ProgramState.DRAFT, PageRole.OWNER, "kc-olga")
    assert (program.content.benefits, program.content.country_codes) == (("Co-selling",), ("FR",))
    assert program.created_at == program.updated_at == stage.clock.now
    assert stage.view(program.id).program == program  # what was returned is what was stored
    members, _ = stage.app.members.list(olga, program.id, 0, "", None)
    assert [(m.subject, m.role, m.email) for m in members] == [("kc-olga", PageRole.OWNER, "kc-olga@example.com")]
    events = published(stage.store)
    assert [e.kind for e in events] == ["program_created", "member_added"]
    assert events[0].args == (program, "kc-olga") and events[1].args == (members[0], None)


def test_a_retry_with_the_same_request_id_returns_the_first_program() -> None:
    stage = Stage()
    olga = stage.who("olga")
    first = stage.app.programs.create(olga, content(), "r1")
    again = stage.app.programs.create(olga, content(display_name="Changed"), "r1")
    assert again == first and stage.store.commits == 1
    assert stage.app.programs.create(olga, content(), "r2").program.id != first.program.id
    other = stage.app.programs.create(stage.who("bob"), content(), "r1")  # keys are per creator
    assert other.program.id != first.program.id


def test_a_concurrent_retry_that_won_the_unique_key_is_returned() -> None:
    stage = Stage()
    olga = stage.who("olga")
    twin: list[Any] = []
    race = Race(stage.store, lambda: twin.append(stage.app.programs.create(olga, content(), "r1")))
    view = stage.app_on(race.uow).programs.create(olga, content(), "r1")
    assert view == twin[0]
    assert len(stage.store.tables["programs"]) == 1 and len(published(stage.store, "program_created")) == 1


def test_creating_validates_every_field_and_a_vendor_company_needs_edit_on_it() -> None:
    stage = Stage()
    olga = stage.who("olga")
    bad = content(display_name=" ", website_url="http://x.io", program_type=None)
    assert failure(lambda: stage.app.programs.create(olga, bad, "")) == Failure(
        INVALID, "INVALID_ARGUMENT", ["program.display_name", "program.program_type", "program.website_url"]
    )
    vendor = content(vendor_company="companies/msft")
    assert failure(lambda: stage.app.programs.create(olga, vendor, "")) == Failure(
        grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED"
    )
    assert stage.companies.calls == [("companies/msft", "kc-olga", PagePermission.EDIT)]
    stage.companies.grant("companies/msft", "kc-olga", PageRole.EDITOR)
    assert stage.app.programs.create(olga, vendor, "").program.content.vendor_company == "companies/msft"
    stage.companies.calls.clear()
    stage.app.programs.create(stage.who("staff"), vendor, "")  # staff and services name any company
    stage.app.programs.create(stage.who("service"), vendor, "")
    assert stage.companies.calls == []
    stage.companies.down = True
    down = failure(lambda: stage.app.programs.create(olga, vendor, ""))
    assert down.code == grpc.StatusCode.UNAVAILABLE
    assert stage.store.commits == 3  # nothing was written by the refused calls


def test_a_draft_is_seen_by_its_members_staff_and_services_only() -> None:
    world = build_world()
    for who in ("stranger", "other_owner", "co_editor"):
        assert failure(lambda: world.app.programs.get(world.who(who), world.draft_id)) == NOT_FOUND  # noqa: B023
    assert failure(lambda: world.app.programs.get(None, world.draft_id)) == NOT_FOUND
    assert world.app.programs.get(world.who("editor"), world.draft_id).role is PageRole.EDITOR
    assert world.app.programs.get(world.who("staff"), world.draft_id).role is None
    assert world.app.programs.get(world.who("service"), world.draft_id).program.id == world.draft_id
    public = world.app.programs.get(None, world.published_id)
    assert (public.program.content.display_name, public.role) == ("Azure Partners", None)
    assert failure(lambda: world.app.programs.get(None, "missing")) == NOT_FOUND


def test_update_changes_the_named_fields_and_publishes_what_changed() -> None:
    stage = Stage()
    olga = stage.who("olga")
    program = stage.app.programs.create(olga, content(tagline="old", description="keep"), "").program
    stage.clock.advance(minutes=5)
    changes = ProgramContent(tagline="new", description="ignored", display_name="")
    updated = stage.app.programs.update(olga, program.id, changes, frozenset({"tagline"}))
    assert (updated.program.content.tagline, updated.program.content.description) == ("new", "keep")
    assert updated.program.updated_at == stage.clock.now and updated.role is PageRole.OWNER
    assert updated.program.version == program.version + 1
    assert stage.view(program.id).program == updated.program  # returned as stored
    assert published(stage.store, "program_updated")[-1].args == (updated.program, ["tagline"])
    commits = stage.store.commits
    same = stage.app.programs.update(olga, program.id, changes, frozenset({"tagline"}))
    assert same.program == updated.program and stage.store.commits == commits  # nothing changed: no write
    empty_name = failure(lambda: stage.app.programs.update(olga, program.id, changes, frozenset({"display_name"})))
    assert empty_name.fields == ["program.display_name"]
    vendor = ProgramContent(vendor_company="companies/msft")
    refused = failure(lambda: stage.app.programs.update(olga, program.id, vendor, frozenset({"vendor_company"})))
    assert refused.reason == "PAGE_PERMISSION_DENIED"
    stage.app.programs.archive(olga, program.id)
    frozen = failure(lambda: stage.app.programs.update(olga, program.id, changes, frozenset({"tagline"})))
    assert frozen == Failure(grpc.StatusCode.FAILED_PRECONDITION, "PROGRAM_ARCHIVED")
    assert failure(lambda: stage.app.programs.update(olga, "missing", changes, frozenset({"tagline"}))).code == (
        grpc.StatusCode.PERMISSION_DENIED  # permission before existence: an unknown id reveals nothing
    )


def test_publish_and_archive_follow_the_lifecycle() -> None:
    stage = Stage()
    olga = stage.who("olga")
    program_id = stage.create_program("olga")
    published_view = stage.app.programs.publish(olga, program_id)
    assert published_view.program.state is ProgramState.PUBLISHED
    assert published_view.program.published_at == stage.clock.now
    assert failure(lambda: stage.app.programs.publish(olga, program_id)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "PROGRAM_NOT_DRAFT"
    )
    archived = stage.app.programs.archive(olga, program_id)
    assert archived.program.state is ProgramState.ARCHIVED and archived.program.archived_at == stage.clock.now
    for again in (stage.app.programs.archive, stage.app.programs.publish):
        assert failure(lambda: again(olga, program_id)).code == grpc.StatusCode.FAILED_PRECONDITION  # noqa: B023
    assert stage.app.programs.get(None, program_id).program.state is ProgramState.ARCHIVED  # still public
    changes = [(e.args[0].state, e.args[1]) for e in published(stage.store, "program_updated")]
    assert changes == [(ProgramState.PUBLISHED, ["state"]), (ProgramState.ARCHIVED, ["state"])]
    assert failure(lambda: stage.app.programs.publish(stage.who("staff"), "missing")) == NOT_FOUND


def test_delete_hides_the_program_and_closes_its_pending_applications() -> None:
    world = build_world()
    approved = world.apply(world.published_id, "c-approved", who="staff").application
    world.app.applications.approve(world.who("owner"), world.published_id, approved.id)
    world.app.programs.delete(world.who("owner"), world.published_id)
    assert failure(lambda: world.view(world.published_id)) == NOT_FOUND
    assert failure(lambda: world.app.programs.delete(world.who("owner"), world.published_id)) == NOT_FOUND
    assert world.app.programs.batch_get([world.published_id]) == []
    assert world.app.programs.titles([world.published_id, world.other_id]) == {world.other_id: "Globex Partners"}
    assert world.app.members.check_access(world.published_id, "kc-owner", PagePermission.VIEW_PRIVATE) == (
        False,
        None,
    )
    states = {a.id: a for a in world.store.tables["applications"].values()}
    closed = states[world.application_id]
    assert (closed.state, closed.rejection_reason, closed.decider) == (
        ApplicationState.REJECTED,
        PROGRAM_DELETED_REASON,
        "kc-owner",
    )
    assert states[approved.id].state is ApplicationState.APPROVED  # decided ones stay as they are
    updated, deleted = published(world.store)[-2:]
    assert (updated.kind, updated.args[0], updated.args[1]) == ("application_updated", closed, ApplicationState.PENDING)
    assert updated.args[3] == [("kc-co_editor@example.com", "Ada Lovelace")]  # the applicant hears of it
    assert (deleted.kind, deleted.args[0].id, deleted.args[1]) == ("program_deleted", world.published_id, "kc-owner")
    assert deleted.args[0].deleted_at == world.clock.now


def _titles(stage: Stage, who: str | None = None, **query: Any) -> list[str]:
    found, _, _ = stage.app.programs.list_programs(stage.caller(who) if who else None, 0, "", ProgramQuery(**query))
    return [v.program.content.display_name for v in found]


def test_listing_filters_what_the_caller_may_see() -> None:
    stage = Stage()
    for title, kind, countries, industries in (
        ("Charlie Referral", ProgramType.REFERRAL, ("FR",), ("fintech",)),
        ("alpha OEM", ProgramType.OEM, ("DE", "FR"), ("health",)),
        ("Bravo Market", ProgramType.MARKETPLACE, ("US",), ("fintech", "retail")),
    ):
        stage.clock.advance(minutes=1)
        stage.create_program(
            "olga", publish=True, display_name=title, program_type=kind, country_codes=countries, industries=industries
        )
    stage.create_program("olga", display_name="Delta Draft", vendor_company="", tagline="secret")
    stage.create_program("bob", display_name="Bob Draft")
    stage.companies.grant(COMPANY, "kc-olga", PageRole.OWNER)
    stage.clock.advance(minutes=1)  # published last: ties of publish time fall to ids, minted per millisecond
    stage.create_program("olga", publish=True, display_name="Echo Vendor", vendor_company=COMPANY)

    assert _titles(stage) == ["alpha OEM", "Bravo Market", "Charlie Referral", "Echo Vendor"]  # published, by name
    assert _titles(stage, country_codes=("FR",)) == ["alpha OEM", "Charlie Referral"]
    assert _titles(stage, industries=("fintech",), types=(ProgramType.MARKETPLACE,)) == ["Bravo Market"]
    assert _titles(stage, text="oem") == ["alpha OEM"]
    assert _titles(stage, vendor_company=COMPANY) == ["Echo Vendor"]
    assert _titles(stage, order_by="publish_time desc") == [
        "Echo Vendor",
        "Bravo Market",
        "alpha OEM",
        "Charlie Referral",
    ]
    drafts = (ProgramState.DRAFT,)
    assert _titles(stage, states=drafts) == []  # drafts are never listed publicly...
    assert _titles(stage, "olga", states=drafts) == ["Delta Draft"]  # ...members see their own
    assert _titles(stage, "staff", states=drafts) == ["Bob Draft", "Delta Draft"]
    assert _titles(stage, "bob", only_member_of=True) == []  # bob's only program is a draft
    assert _titles(stage, "olga", only_member_of=True, states=drafts) == ["Delta Draft"]
    found, _, total = stage.app.programs.list_programs(stage.who("olga"), 0, "", ProgramQuery(text="Echo"))
    assert [(v.role, total) for v in found] == [(PageRole.OWNER, 1)]
    anonymous = failure(lambda: _titles(stage, only_member_of=True))
    assert anonymous == Failure(grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
    assert failure(lambda: _titles(stage, order_by="vendor_name")) == Failure(INVALID, "INVALID_ARGUMENT", ["order_by"])


def test_listing_walks_windows_with_page_tokens_and_the_size_is_capped() -> None:
    stage = Stage(settings=settings(max_page_size=3))
    names = [stage.create_program("olga", publish=True, display_name=f"P{i}") for i in range(5)]
    for order in ("display_name", "update_time desc", "publish_time desc"):
        seen, token = [], ""
        while True:
            found, token, total = stage.app.programs.list_programs(None, 2, token, ProgramQuery(order_by=order))
            assert total == 5 and len(found) <= 2
            seen += [v.program.id for v in found]
            if not token:
                break
        assert sorted(seen) == sorted(names) and len(seen) == 5, order
    found, token, _ = stage.app.programs.list_programs(None, 10_000, "", ProgramQuery())
    assert len(found) == 3 and token  # the server's cap
    other = failure(lambda: stage.app.programs.list_programs(None, 3, token, ProgramQuery(text="P")))
    assert other.fields == ["page_token"]  # a token is bound to its filters
    assert failure(lambda: stage.app.programs.list_programs(None, -1, "", ProgramQuery())).fields == ["page_size"]


def test_batch_get_keeps_the_request_order_and_skips_unknown_and_deleted_programs() -> None:
    stage = Stage()
    a, b, gone = (stage.create_program(display_name=n) for n in ("A", "B", "Gone"))
    stage.app.programs.delete(stage.who("owner"), gone)
    found = stage.app.programs.batch_get([b, "missing", a, gone, b])
    assert [p.content.display_name for p in found] == ["B", "A"]
    assert stage.app.programs.titles([a, gone]) == {a: "A"}
    assert failure(lambda: stage.app.programs.batch_get([a] * 201)) == Failure(INVALID, "INVALID_ARGUMENT", ["names"])

"""Program and application rules, without I/O."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from devinsider_common import errors
from program_service.domain.application import Application, ApplicationState
from program_service.domain.program import Program, ProgramContent, ProgramState, ProgramType
from program_service.domain.query import EPOCH, ProgramQuery, position

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
GOOD = ProgramContent(display_name="Azure Partners", vendor_name="Microsoft", program_type=ProgramType.TECHNOLOGY)


def _fields(error: pytest.ExceptionInfo[errors.InvalidArgument]) -> set[str]:
    return {v.field for v in error.value.violations}


def test_valid_content_passes_and_every_bad_field_is_named_at_once() -> None:
    GOOD.validate()
    bad = ProgramContent(
        display_name=" ",
        vendor_name="x" * 121,
        vendor_company="company/1",
        program_type=None,
        tagline="t" * 161,
        benefits=("ok", "ok"),
        requirements=("",),
        country_codes=("fr",),
        industries=("Not A Code",),
        website_url="http://plain.example.com",
        logo_url="ftp://x",
    )
    with pytest.raises(errors.InvalidArgument) as error:
        bad.validate()
    assert _fields(error) == {
        "program.display_name",
        "program.vendor_name",
        "program.vendor_company",
        "program.program_type",
        "program.tagline",
        "program.benefits",
        "program.requirements[0]",
        "program.country_codes[0]",
        "program.industries[0]",
        "program.website_url",
        "program.logo_url",
    }


def test_only_the_masked_fields_are_validated() -> None:
    ProgramContent(display_name="", tagline="fine").validate(frozenset({"tagline"}))


def test_lifecycle_draft_published_archived_and_every_other_transition_fails() -> None:
    draft = Program("p1", GOOD)
    published = draft.publish(NOW)
    assert (published.state, published.published_at) == (ProgramState.PUBLISHED, NOW)
    archived = published.archive(NOW)
    assert archived.state is ProgramState.ARCHIVED and archived.archived_at == NOW
    assert draft.archive(NOW).state is ProgramState.ARCHIVED  # a draft may be archived directly
    for invalid in (published.publish, archived.publish, archived.archive, draft.archive(NOW).publish):
        with pytest.raises(errors.FailedPrecondition):
            invalid(NOW)


def test_an_archived_program_cannot_change_and_unchanged_fields_are_not_reported() -> None:
    draft = Program("p1", GOOD)
    same, changed = draft.with_content(GOOD, frozenset({"display_name"}), NOW)
    assert same is draft and changed == []
    renamed, changed = draft.with_content(ProgramContent(display_name="New"), frozenset({"display_name"}), NOW)
    assert renamed.content.display_name == "New" and changed == ["display_name"]
    with pytest.raises(errors.FailedPrecondition):
        draft.archive(NOW).with_content(ProgramContent(display_name="New"), frozenset({"display_name"}), NOW)


def test_only_published_programs_take_applications() -> None:
    Program("p1", GOOD).publish(NOW).check_open_to_applications()
    for program in (Program("p1", GOOD), Program("p1", GOOD).archive(NOW)):
        with pytest.raises(errors.FailedPrecondition):
            program.check_open_to_applications()


def test_application_state_machine() -> None:
    pending = Application("a1", "p1", "c1", "kc-ann")
    approved = pending.approve("users/1", NOW)
    assert (approved.state, approved.decider, approved.decided_at) == (ApplicationState.APPROVED, "users/1", NOW)
    rejected = pending.reject("users/1", "  not a fit ", NOW)
    assert rejected.state is ApplicationState.REJECTED and rejected.rejection_reason == "not a fit"
    assert pending.withdraw("kc-ann", NOW).state is ApplicationState.WITHDRAWN
    with pytest.raises(errors.InvalidArgument):
        pending.reject("users/1", " ", NOW)
    for decided in (approved, rejected, pending.withdraw("kc-ann", NOW)):
        transitions: list[Callable[[Application], Application]] = [
            lambda a: a.approve("u", NOW),
            lambda a: a.reject("u", "r", NOW),
            lambda a: a.withdraw("u", NOW),
        ]
        for transition in transitions:
            with pytest.raises(errors.FailedPrecondition):
                transition(decided)


def test_a_position_is_the_sort_value_of_its_order_and_the_id() -> None:
    draft = Program("p1", GOOD, updated_at=NOW)
    published = draft.publish(NOW)
    assert position(draft, "display_name") == ("azure partners", "p1")
    assert position(draft, "publish_time desc") == (EPOCH.isoformat(), "p1")  # never published: last
    assert position(published, "publish_time desc") == (NOW.isoformat(), "p1")
    naive = Program("p2", GOOD, updated_at=NOW.replace(tzinfo=None))  # as SQLite hands it back
    assert position(naive, "update_time desc") == (NOW.isoformat(), "p2")
    assert ProgramQuery().descending() is False and ProgramQuery(order_by="update_time desc").descending()


def test_a_query_binds_page_tokens_to_its_filters_not_to_their_order() -> None:
    one = ProgramQuery(types=(ProgramType.OEM, ProgramType.REFERRAL), country_codes=("FR", "DE"))
    other = ProgramQuery(types=(ProgramType.REFERRAL, ProgramType.OEM), country_codes=("DE", "FR"))
    assert one.filters() == other.filters()
    assert one.filters() != ProgramQuery(text="x").filters()
    # The caller's scope (what it may see) is not a filter: it is recomputed on every window.
    assert ProgramQuery(see_all=True, viewer="kc-olga").filters() == ProgramQuery().filters()

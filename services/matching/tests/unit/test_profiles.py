"""Criteria profiles: permission first, validation against the latest taxonomy, what an update writes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from pydantic import ValidationError

from devinsider.common.v1 import money_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common import errors
from devinsider_common.pages.names import PageKind
from devinsider_common.testing.failures import failure
from matching_service.domain.facts import PageFacts
from matching_service.domain.profile import (
    MAX_CODES,
    PROFILE_FIELDS,
    Criteria,
    CriteriaProfile,
    FundingNeed,
    TicketRange,
    validate_profile,
)
from matching_service.domain.taxonomy import Dimension
from matching_service.settings import MatchingSettings

from ..fakes import FakeMatchingUnitOfWork, MemoryProfiles, World, seed_taxonomy
from .helpers import (
    ALICE,
    COUNTRY,
    EVE,
    IND,
    IVAN,
    MODEL,
    NO_CONTEXT,
    PARTNER,
    REVENUE,
    SIZE,
    STAGE,
    TECH,
    eur,
    page,
    profile,
    rpc,
    set_profile,
)

TAX = seed_taxonomy()
PATH = "criteria_profile"


@pytest.mark.parametrize(
    ("name", "criteria", "extra", "fields"),
    [
        ("programs/p", {PARTNER: ("reseller", "nope")}, {}, [f"{PATH}.criteria[partner_type].codes"]),
        ("companies/c", {STAGE: ("seed", "series_a")}, {}, [f"{PATH}.criteria[funding_stage].codes"]),
        ("companies/c", {MODEL: Criteria(("saas",), True)}, {}, [f"{PATH}.criteria[business_model].required"]),
        ("programs/p", {PARTNER: Criteria((), True)}, {}, [f"{PATH}.criteria[partner_type].required"]),
        ("programs/p", {MODEL: tuple(["saas"] * (MAX_CODES + 1))}, {}, [f"{PATH}.criteria[business_model].codes"]),
        ("programs/p", {Dimension.FUNDING_AMOUNT: ("x",)}, {}, [f"{PATH}.criteria[funding_amount]"]),
        ("companies/c", {}, {"ticket_range": TicketRange(eur(1), eur(2))}, [f"{PATH}.ticket_range"]),
        ("programs/p", {}, {"funding_need": FundingNeed(True)}, [f"{PATH}.funding_need"]),
        # What the pages hold is refused, whichever the page (the page is its source of truth).
        (
            "companies/c",
            {IND: ("fintech",), COUNTRY: ("FR",), TECH: ("ai_ml",), SIZE: ("1_10",), REVENUE: ("1m_5m",)},
            {"funding_need": FundingNeed(True, eur(5))},
            [
                f"{PATH}.criteria[industry].codes",
                f"{PATH}.criteria[country].codes",
                f"{PATH}.criteria[technology].codes",
                f"{PATH}.criteria[company_size].codes",
                f"{PATH}.criteria[revenue_range].codes",
                f"{PATH}.funding_need",
            ],
        ),
        (
            "investors/i",
            {STAGE: ("seed",), IND: Criteria(("fintech",), True)},
            {"ticket_range": TicketRange(eur(1), eur(2))},
            [
                f"{PATH}.criteria[funding_stage].codes",
                f"{PATH}.criteria[industry].codes",
                f"{PATH}.ticket_range.min",
                f"{PATH}.ticket_range.max",
            ],
        ),
        ("investors/i", {}, {"ticket_range": TicketRange(None, eur(2), True)}, [f"{PATH}.ticket_range.max"]),
        (
            "programs/p",
            {COUNTRY: ("europe",), TECH: ("ai_ml",)},
            {},
            [f"{PATH}.criteria[country].codes", f"{PATH}.criteria[technology].codes"],
        ),
    ],
)
def test_a_profile_is_refused_naming_each_bad_field(
    name: str, criteria: dict[Dimension, Any], extra: dict[str, Any], fields: list[str]
) -> None:
    refused = failure(lambda: validate_profile(profile(name, criteria, **extra), TAX, None))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, fields)


def test_a_value_the_page_holds_is_refused_naming_the_page_field_to_edit() -> None:
    def refusals(refused: CriteriaProfile) -> list[tuple[str, str]]:
        with pytest.raises(errors.InvalidArgument) as raised:
            validate_profile(refused, TAX, None)
        return [(v.field, v.description) for v in raised.value.violations]

    assert refusals(profile("companies/c", {IND: ("fintech",)})) == [
        (f"{PATH}.criteria[industry].codes", "is taken from companies/c (industries): edit the page")
    ]
    assert refusals(profile("investors/i", ticket_range=TicketRange(eur(1), None))) == [
        (f"{PATH}.ticket_range.min", "is taken from investors/i (ticket_min and ticket_max): edit the page")
    ]


def test_required_flags_on_what_the_page_holds_are_the_profiles() -> None:
    flags = {IND: Criteria((), True), COUNTRY: Criteria((), True), STAGE: Criteria((), True)}
    validate_profile(profile("investors/i", flags, ticket_range=TicketRange(None, None, True)), TAX, None)
    validate_profile(profile("programs/p", {IND: Criteria((), True), PARTNER: ("reseller",)}), TAX, None)


@pytest.mark.parametrize(
    "weights",
    [{"program_weights": {"nope": 1.0}}, {"investor_weights": {"industry": -1.0}}],
    ids=["unknown", "negative"],
)
def test_the_weights_of_the_settings_are_checked(weights: dict[str, dict[str, float]]) -> None:
    with pytest.raises(ValidationError):
        MatchingSettings(database_url="sqlite://", **weights)  # type: ignore[arg-type]


def test_a_deprecated_code_is_refused_unless_the_page_already_had_it() -> None:
    old = replace(TAX, criteria=tuple(replace(c, deprecated=c.code == "reseller") for c in TAX.criteria))
    kept = profile("programs/p", {PARTNER: ("reseller",)})
    validate_profile(kept, old, kept)
    assert failure(lambda: validate_profile(kept, old, None)).fields == [f"{PATH}.criteria[partner_type].codes"]


def test_profiles_are_validated_saved_and_announced(matching: World) -> None:
    need = FundingNeed(True, eur(500_000))
    matching.pages.add("companies/c1", owner="alice", display_name="C One", facts=PageFacts({IND: ("fintech",)}, need))
    matching.pages.add("investors/i1", owner="ivan")
    update = matching.app.profiles.update
    # Without a profile yet: what the page holds all the same.
    empty = matching.app.profiles.get(ALICE, page("companies/c1"))
    assert (empty.criteria, empty.funding_need, empty.taxonomy_version, empty.updated_at) == (
        {IND: Criteria(("fintech",))},
        need,
        1,
        None,
    )
    bad = profile("companies/c1", {PARTNER: ("nope",)}, ticket_range=TicketRange(None, None))
    refused = failure(lambda: update(ALICE, bad, set(PROFILE_FIELDS)))
    assert refused.fields == [f"{PATH}.criteria[partner_type].codes", f"{PATH}.ticket_range"]
    assert matching.store.commits == 0  # nothing written
    saved = update(ALICE, profile("companies/c1", {STAGE: ("seed",)}), {"criteria"})
    assert saved.criteria == {IND: Criteria(("fintech",)), STAGE: Criteria(("seed",))} and saved.funding_need == need
    assert saved.updated_at == matching.clock() and saved.taxonomy_version == 1
    assert matching.app.profiles.get(ALICE, saved.page) == saved  # returned what it reads
    [(kind, (event, changed))] = matching.store.events()
    assert (kind, event, changed) == ("profile_updated", saved, ["criteria"])
    # The profile stores its own values only; the status fetched with the change is stored (with the
    # page's facts); the change is logged for the other replicas.
    with matching.read() as uow:
        stored = uow.profiles.get("companies/c1")
        assert stored is not None and (stored.criteria, stored.funding_need) == ({STAGE: Criteria(("seed",))}, None)
        status = uow.statuses.get_many(["companies/c1"])["companies/c1"]
        assert status.display_name == "C One" and status.facts == PageFacts({IND: ("fintech",)}, need)
        assert uow.changes.since(0) == [(1, "companies/c1")]
        assert uow.announcements.pages() == []  # drained right after the commit
    # Only the fields named change; an unchanged update still records an event, with nothing changed.
    matching.clock.advance(minutes=1)
    kept = update(ALICE, profile("companies/c1", {PARTNER: ("reseller",)}), {"criteria"})
    assert kept.funding_need == need and set(kept.criteria) == {IND, PARTNER}
    again = update(ALICE, profile("companies/c1", {PARTNER: ("reseller",)}), {"criteria"})
    assert matching.store.events()[-1][1][1] == [] and again.criteria == kept.criteria
    bad_ticket = failure(
        lambda: update(IVAN, profile("investors/i1", ticket_range=TicketRange(eur(5), eur(2))), {"ticket_range"})
    )
    assert bad_ticket.fields == [f"{PATH}.ticket_range.min", f"{PATH}.ticket_range.max"]


def test_only_editors_set_a_profile_and_only_viewers_read_it(matching: World) -> None:
    matching.pages.add("companies/c1", owner="alice")
    for call in (
        lambda: matching.app.profiles.get(EVE, profile("companies/c1").page),
        lambda: set_profile(matching, EVE, "companies/c1", {IND: ("fintech",)}),
        lambda: set_profile(matching, ALICE, "companies/unknown", {IND: ("fintech",)}),  # permission first
    ):
        refused = failure(call)
        assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
    assert matching.store.commits == 0


def test_the_servicer_reads_the_mask_and_maps_the_profile(matching: World) -> None:
    facts = PageFacts({IND: ("fintech",)}, ticket_min=eur(100), ticket_max=eur(500))
    matching.pages.add("investors/i1", owner="ivan", facts=facts)
    required = pb.TicketRange(required=True)
    message = pb.CriteriaProfile(
        name="investors/i1/criteriaProfile",
        criteria=[pb.ProfileCriterion(dimension=pb.DIMENSION_BUSINESS_MODEL, codes=["saas"])],
        ticket_range=required,
    )

    def update(request: pb.UpdateCriteriaProfileRequest) -> pb.CriteriaProfile:
        return rpc(matching, IVAN, lambda s: s.UpdateCriteriaProfile(request, NO_CONTEXT))

    saved = update(pb.UpdateCriteriaProfileRequest(criteria_profile=message))
    assert saved.page.kind == int(PageKind.INVESTOR) and list(saved.page_dimensions) == [
        pb.DIMENSION_INDUSTRY,
        pb.DIMENSION_TECHNOLOGY,
        pb.DIMENSION_COUNTRY,
        pb.DIMENSION_FUNDING_STAGE,
        pb.DIMENSION_FUNDING_AMOUNT,
    ]
    assert [(c.dimension, list(c.codes)) for c in saved.criteria] == [
        (pb.DIMENSION_INDUSTRY, ["fintech"]),  # the page's
        (pb.DIMENSION_BUSINESS_MODEL, ["saas"]),
    ]
    assert (saved.ticket_range.min.amount_minor, saved.ticket_range.max.amount_minor) == (100, 500)
    assert saved.ticket_range.required
    # Without a mask only what is sent changes: criteria alone keep the ticket range's flag ...
    criteria_only = pb.CriteriaProfile(
        name=message.name, criteria=[pb.ProfileCriterion(dimension=pb.DIMENSION_PARTNER_TYPE, codes=["oem"])]
    )
    kept = update(pb.UpdateCriteriaProfileRequest(criteria_profile=criteria_only))
    assert kept.ticket_range.required and [c.codes[0] for c in kept.criteria] == ["fintech", "oem"]
    # ... and a mask clears what it names (the page's range stays, not required).
    clear = pb.UpdateCriteriaProfileRequest(
        criteria_profile=pb.CriteriaProfile(name=message.name),
        update_mask=field_mask_pb2.FieldMask(paths=["ticket_range"]),
    )
    cleared = update(clear)
    assert not cleared.ticket_range.required and cleared.ticket_range.max.amount_minor == 500
    got = rpc(
        matching,
        IVAN,
        lambda s: s.GetCriteriaProfile(pb.GetCriteriaProfileRequest(name="investors/i1/criteriaProfile"), NO_CONTEXT),
    )
    assert got == cleared
    # What the page holds is refused, naming where it comes from.
    page_owned = pb.CriteriaProfile(
        name=message.name,
        criteria=[pb.ProfileCriterion(dimension=pb.DIMENSION_FUNDING_STAGE, codes=["seed"])],
        ticket_range=pb.TicketRange(max=money_pb2.Money(currency_code="EUR", amount_minor=9)),
    )
    refused = failure(lambda: update(pb.UpdateCriteriaProfileRequest(criteria_profile=page_owned)))
    assert refused.fields == [f"{PATH}.criteria[funding_stage].codes", f"{PATH}.ticket_range.max"]
    twice = pb.CriteriaProfile(
        name=message.name,
        criteria=[
            pb.ProfileCriterion(dimension=pb.DIMENSION_PARTNER_TYPE, codes=["oem"]),
            pb.ProfileCriterion(codes=["oem"]),  # no dimension
            pb.ProfileCriterion(dimension=pb.DIMENSION_PARTNER_TYPE, codes=["reseller"]),
        ],
    )
    refused = failure(lambda: update(pb.UpdateCriteriaProfileRequest(criteria_profile=twice)))
    assert refused.fields == ["criteria_profile.criteria[1].dimension", "criteria_profile.criteria[2].dimension"]
    for request, field in (
        (pb.GetCriteriaProfileRequest(name="companies/c1"), "name"),
        (pb.GetCriteriaProfileRequest(name="users/u1/criteriaProfile"), "name"),
    ):
        refused = failure(lambda r=request: rpc(matching, IVAN, lambda s: s.GetCriteriaProfile(r, NO_CONTEXT)))  # type: ignore[misc]
        assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [field])


def test_a_concurrent_first_save_is_not_lost_nor_an_error(matching: World) -> None:
    """Two first saves of one page race: the one that meets the other's row applies its fields on
    top of it (the database's primary key, DuplicateRecord here) instead of failing INTERNAL."""
    matching.pages.add("companies/c1", owner="alice")
    twin = replace(profile("companies/c1", {STAGE: ("seed",)}), taxonomy_version=1, updated_at=matching.clock())
    raced: list[str] = []

    class RacedProfiles(MemoryProfiles):
        def get(self, page: str) -> CriteriaProfile | None:
            if raced:
                return super().get(page)
            raced.append(page)  # the twin commits after this read, before this unit's insert
            with FakeMatchingUnitOfWork(matching.store) as other:
                other.profiles.save(twin, exists=False)
                other.commit()
            self._rows[page] = twin  # what the insert will meet (the table's key)
            return None

    class RacingUow(FakeMatchingUnitOfWork):
        def _open_repositories(self) -> None:
            super()._open_repositories()
            self.profiles = RacedProfiles(self.table("profiles"))

    racing = World(
        store=matching.store,
        pages=matching.pages,
        clock=matching.clock,
        uow=lambda read_only=False: RacingUow(matching.store),
    )
    saved = set_profile(racing, ALICE, "companies/c1", {PARTNER: ("oem",)})
    assert raced == ["companies/c1"]
    assert set(saved.criteria) == {PARTNER}  # this update's field, applied on the twin
    assert matching.app.profiles.get(ALICE, saved.page) == saved
    assert [kind for kind, _ in matching.store.events()] == ["profile_updated"]  # the loser's first try wrote nothing

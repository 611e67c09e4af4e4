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
from devinsider_common.pages.names import PageKind
from devinsider_common.testing.failures import failure
from matching_service.domain.profile import (
    MAX_CODES,
    Criteria,
    CriteriaProfile,
    FundingNeed,
    Money,
    TicketRange,
    validate_profile,
)
from matching_service.domain.taxonomy import Dimension
from matching_service.settings import MatchingSettings

from ..fakes import FakeMatchingUnitOfWork, MemoryProfiles, World, seed_taxonomy
from .helpers import ALICE, COUNTRY, EVE, IND, IVAN, NO_CONTEXT, SIZE, STAGE, TECH, eur, profile, rpc, set_profile

TAX = seed_taxonomy()
PATH = "criteria_profile"


@pytest.mark.parametrize(
    ("name", "criteria", "extra", "fields"),
    [
        ("companies/c", {IND: ("fintech", "nope")}, {}, [f"{PATH}.criteria[industry].codes"]),
        ("companies/c", {SIZE: ("1_10", "11_50")}, {}, [f"{PATH}.criteria[company_size].codes"]),
        ("companies/c", {TECH: Criteria(("ai_ml",), True)}, {}, [f"{PATH}.criteria[technology].required"]),
        ("programs/p", {TECH: Criteria((), True)}, {}, [f"{PATH}.criteria[technology].required"]),
        ("programs/p", {IND: tuple(["fintech"] * (MAX_CODES + 1))}, {}, [f"{PATH}.criteria[industry].codes"]),
        ("programs/p", {Dimension.FUNDING_AMOUNT: ("x",)}, {}, [f"{PATH}.criteria[funding_amount]"]),
        ("companies/c", {}, {"ticket_range": TicketRange(eur(1), eur(2))}, [f"{PATH}.ticket_range"]),
        ("programs/p", {}, {"funding_need": FundingNeed(True)}, [f"{PATH}.funding_need"]),
        (
            "companies/c",
            {},
            {"funding_need": FundingNeed(True, Money("eur", -1))},
            [f"{PATH}.funding_need.amount.currency_code", f"{PATH}.funding_need.amount.amount_minor"],
        ),
        ("investors/i", {}, {"ticket_range": TicketRange(eur(5), eur(2))}, [f"{PATH}.ticket_range.max"]),
        ("investors/i", {}, {"ticket_range": TicketRange(eur(0), eur(0))}, [f"{PATH}.ticket_range.max"]),
        (
            "investors/i",
            {},
            {"ticket_range": TicketRange(eur(1), Money("USD", 10**16))},
            [f"{PATH}.ticket_range.max.amount_minor", f"{PATH}.ticket_range.max"],
        ),
    ],
)
def test_a_profile_is_refused_naming_each_bad_field(
    name: str, criteria: dict[Dimension, Any], extra: dict[str, Any], fields: list[str]
) -> None:
    refused = failure(lambda: validate_profile(profile(name, criteria, **extra), TAX, None))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, fields)


@pytest.mark.parametrize(
    "weights",
    [{"program_weights": {"nope": 1.0}}, {"investor_weights": {"industry": -1.0}}],
    ids=["unknown", "negative"],
)
def test_the_weights_of_the_settings_are_checked(weights: dict[str, dict[str, float]]) -> None:
    with pytest.raises(ValidationError):
        MatchingSettings(database_url="sqlite://", **weights)  # type: ignore[arg-type]


def test_a_deprecated_code_is_refused_unless_the_page_already_had_it() -> None:
    old = replace(TAX, criteria=tuple(replace(c, deprecated=c.code == "fintech") for c in TAX.criteria))
    kept = profile("programs/p", {IND: ("fintech",)})
    validate_profile(kept, old, kept)
    assert failure(lambda: validate_profile(kept, old, None)).fields == [f"{PATH}.criteria[industry].codes"]


def test_profiles_are_validated_saved_and_announced(matching: World) -> None:
    matching.pages.add("companies/c1", owner="alice", display_name="C One")
    matching.pages.add("investors/i1", owner="ivan")
    empty = matching.app.profiles.get(ALICE, profile("companies/c1").page)
    assert (empty.criteria, empty.taxonomy_version, empty.updated_at) == ({}, 1, None)
    refused = failure(
        lambda: set_profile(matching, ALICE, "companies/c1", {IND: ("nope",)}, ticket_range=TicketRange(eur(1), eur(2)))
    )
    assert refused.fields == [f"{PATH}.criteria[industry].codes", f"{PATH}.ticket_range"]
    assert matching.store.commits == 0  # nothing written
    need = FundingNeed(True, eur(500_000))
    saved = set_profile(matching, ALICE, "companies/c1", {IND: ("fintech",), STAGE: ("seed",)}, funding_need=need)
    assert saved.funding_need == need and saved.updated_at == matching.clock() and saved.taxonomy_version == 1
    assert matching.app.profiles.get(ALICE, saved.page) == saved  # returned what it stored
    [(kind, (event, changed))] = matching.store.events()
    assert (kind, event, changed) == ("profile_updated", saved, ["criteria", "funding_need"])
    # The status fetched with the change is stored; the change is logged for the other replicas.
    with matching.read() as uow:
        assert uow.statuses.get_many(["companies/c1"])["companies/c1"].display_name == "C One"
        assert uow.changes.since(0) == [(1, "companies/c1")]
        assert uow.announcements.pages() == []  # drained right after the commit
    # Only the fields named change; an unchanged update still records an event, with nothing changed.
    matching.clock.advance(minutes=1)
    kept = matching.app.profiles.update(ALICE, profile("companies/c1", {COUNTRY: ("FR",)}), {"criteria"})
    assert kept.funding_need == need and set(kept.criteria) == {COUNTRY}
    again = matching.app.profiles.update(ALICE, profile("companies/c1", {COUNTRY: ("FR",)}), {"criteria"})
    assert matching.store.events()[-1][1][1] == [] and again.criteria == kept.criteria
    bad_ticket = failure(
        lambda: set_profile(matching, IVAN, "investors/i1", {}, ticket_range=TicketRange(eur(5), eur(2)))
    )
    assert bad_ticket.fields == [f"{PATH}.ticket_range.max"]


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
    matching.pages.add("companies/c1", owner="alice")
    need = pb.FundingNeed(looking_for_funding=True, amount=money_pb2.Money(currency_code="EUR", amount_minor=500))
    message = pb.CriteriaProfile(
        name="companies/c1/criteriaProfile",
        criteria=[pb.ProfileCriterion(dimension=pb.DIMENSION_INDUSTRY, codes=["fintech"])],
        funding_need=need,
    )
    saved = rpc(
        matching,
        ALICE,
        lambda s: s.UpdateCriteriaProfile(pb.UpdateCriteriaProfileRequest(criteria_profile=message), NO_CONTEXT),
    )
    assert saved.page.kind == int(PageKind.COMPANY) and saved.funding_need.amount.amount_minor == 500
    # Without a mask only what is sent changes: criteria alone keep the funding need ...
    criteria_only = pb.CriteriaProfile(
        name=message.name, criteria=[pb.ProfileCriterion(dimension=pb.DIMENSION_COUNTRY, codes=["FR"])]
    )
    kept = rpc(
        matching,
        ALICE,
        lambda s: s.UpdateCriteriaProfile(pb.UpdateCriteriaProfileRequest(criteria_profile=criteria_only), NO_CONTEXT),
    )
    assert kept.funding_need.amount.amount_minor == 500 and [c.codes[0] for c in kept.criteria] == ["FR"]
    # ... and a mask clears what it names.
    clear = pb.UpdateCriteriaProfileRequest(
        criteria_profile=pb.CriteriaProfile(name=message.name),
        update_mask=field_mask_pb2.FieldMask(paths=["funding_need"]),
    )
    cleared = rpc(matching, ALICE, lambda s: s.UpdateCriteriaProfile(clear, NO_CONTEXT))
    assert not cleared.HasField("funding_need") and [c.codes[0] for c in cleared.criteria] == ["FR"]
    got = rpc(
        matching,
        ALICE,
        lambda s: s.GetCriteriaProfile(pb.GetCriteriaProfileRequest(name="companies/c1/criteriaProfile"), NO_CONTEXT),
    )
    assert got == cleared
    twice = pb.CriteriaProfile(
        name=message.name,
        criteria=[
            pb.ProfileCriterion(dimension=pb.DIMENSION_INDUSTRY, codes=["fintech"]),
            pb.ProfileCriterion(codes=["fintech"]),  # no dimension
            pb.ProfileCriterion(dimension=pb.DIMENSION_INDUSTRY, codes=["retail"]),
        ],
    )
    refused = failure(
        lambda: rpc(
            matching,
            ALICE,
            lambda s: s.UpdateCriteriaProfile(pb.UpdateCriteriaProfileRequest(criteria_profile=twice), NO_CONTEXT),
        )
    )
    assert refused.fields == ["criteria_profile.criteria[1].dimension", "criteria_profile.criteria[2].dimension"]
    for request, field in (
        (pb.GetCriteriaProfileRequest(name="companies/c1"), "name"),
        (pb.GetCriteriaProfileRequest(name="users/u1/criteriaProfile"), "name"),
    ):
        refused = failure(lambda r=request: rpc(matching, ALICE, lambda s: s.GetCriteriaProfile(r, NO_CONTEXT)))  # type: ignore[misc]
        assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [field])


def test_a_concurrent_first_save_is_not_lost_nor_an_error(matching: World) -> None:
    """Two first saves of one page race: the one that meets the other's row applies its fields on
    top of it (the database's primary key, DuplicateRecord here) instead of failing INTERNAL."""
    matching.pages.add("companies/c1", owner="alice")
    twin = replace(profile("companies/c1", {COUNTRY: ("FR",)}), taxonomy_version=1, updated_at=matching.clock())
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
        store=matching.store, pages=matching.pages, clock=matching.clock, uow=lambda: RacingUow(matching.store)
    )
    saved = set_profile(racing, ALICE, "companies/c1", {IND: ("fintech",)})
    assert raced == ["companies/c1"]
    assert set(saved.criteria) == {IND}  # this update's field, applied on the twin
    assert matching.app.profiles.get(ALICE, saved.page) == saved
    assert [kind for kind, _ in matching.store.events()] == ["profile_updated"]  # the loser's first try wrote nothing

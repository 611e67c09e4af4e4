"""The taxonomy use cases: versions, criteria lists (filters, windows), and a new version's effect."""

from __future__ import annotations

from dataclasses import replace

import grpc

from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.taxonomy import INDUSTRY_CODES
from devinsider_common.testing.failures import failure
from matching_service.domain.taxonomy import Dimension, Scale

from ..fakes import MatchingStore, World, seed_taxonomy
from .helpers import ALICE, IND, NO_CONTEXT, rpc, set_profile


def test_versions_are_read_once_and_unknown_ones_are_not_found(matching: World) -> None:
    taxonomy = matching.app.taxonomy.get()
    assert taxonomy.version == 1 and set(taxonomy.by_dimension) == set(Dimension)
    sizes = taxonomy.by_dimension[Dimension.COMPANY_SIZE]
    assert Dimension.COMPANY_SIZE.scale is Scale.ORDINAL and [c.rank for c in sizes] == list(range(6))
    assert matching.app.taxonomy.get(1) is taxonomy  # cached: versions never change
    assert failure(lambda: matching.app.taxonomy.get(7)).code == grpc.StatusCode.NOT_FOUND
    refused = failure(lambda: matching.app.taxonomy.get(-1))
    assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["version"])
    # Page services refuse industries outside the shared list: it must be the latest taxonomy's.
    assert {c.code for c in taxonomy.by_dimension[Dimension.INDUSTRY] if not c.deprecated} == INDUSTRY_CODES


def test_criteria_are_filtered_searched_and_windowed(matching: World) -> None:
    taxonomy = matching.app.taxonomy
    europe, token, version = taxonomy.list_criteria(Dimension.COUNTRY, 8, "", "", "europe", False)
    assert len(europe) == 8 and all(c.parent == "europe" for c in europe) and token and version == 1
    rest, last, _ = taxonomy.list_criteria(Dimension.COUNTRY, 50, token, "", "europe", False)
    assert len(europe) + len(rest) == 20 and not last
    assert {c.code for c in europe}.isdisjoint({c.code for c in rest})
    found, _, _ = taxonomy.list_criteria(Dimension.INDUSTRY, 0, "", "FINT", "", False)
    assert [c.name for c in found] == ["dimensions/industry/criteria/fintech"]
    other_filters = failure(lambda: taxonomy.list_criteria(Dimension.COUNTRY, 8, token, "", "asia", False))
    assert other_filters.fields == ["page_token"]


def test_deprecated_criteria_are_listed_on_request_and_a_new_version_rebuilds_the_index() -> None:
    seed = seed_taxonomy()
    deprecated = tuple(replace(c, deprecated=c.code == "fintech") for c in seed.criteria)
    store = MatchingStore([seed])
    matching = World(store=store)
    matching.pages.add("companies/acme", owner="alice")
    set_profile(matching, ALICE, "companies/acme", {IND: ("fintech",)})
    store.taxonomies[2] = replace(seed, version=2, criteria=deprecated)  # published by a migration
    assert matching.app.sync.catch_up() == 0 and matching.app.sync.taxonomy().version == 2
    assert "companies/acme" in matching.app.sync.index()  # reloaded with the profiles
    hidden, _, version = matching.app.taxonomy.list_criteria(Dimension.INDUSTRY, 200, "", "fint", "", False)
    shown, _, _ = matching.app.taxonomy.list_criteria(Dimension.INDUSTRY, 200, "", "fint", "", True)
    assert (hidden, [c.code for c in shown], version) == ([], ["fintech"], 2)


def test_the_servicer_maps_the_taxonomy_and_refuses_an_unknown_dimension(matching: World) -> None:
    taxonomy = rpc(matching, None, lambda s: s.GetTaxonomy(pb.GetTaxonomyRequest(), NO_CONTEXT))
    assert taxonomy.version == 1 and len(taxonomy.dimensions) == 9
    sizes = next(d for d in taxonomy.dimensions if d.dimension == pb.DIMENSION_COMPANY_SIZE)
    assert sizes.scale == pb.DIMENSION_SCALE_ORDINAL and sizes.name == "dimensions/company_size"
    listed = rpc(
        matching,
        None,
        lambda s: s.ListCriteria(pb.ListCriteriaRequest(parent="dimensions/industry", query="fint"), NO_CONTEXT),
    )
    assert [c.code for c in listed.criteria] == ["fintech"] and listed.taxonomy_version == 1
    for parent in ("dimensions/nope", "industries/industry", ""):
        request = pb.ListCriteriaRequest(parent=parent)
        refused = failure(lambda r=request: rpc(matching, None, lambda s: s.ListCriteria(r, NO_CONTEXT)))  # type: ignore[misc]
        assert (refused.code, refused.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["parent"])

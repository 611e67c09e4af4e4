"""MatchingService over gRPC: proto <-> use-case arguments, nothing else."""

from __future__ import annotations

import math

import grpc
from google.protobuf import empty_pb2

from devinsider.common.v1 import page_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider.matching.v1 import matching_pb2_grpc
from devinsider_common import errors
from devinsider_common.field_mask import resolve_update_mask
from devinsider_common.grpc.requests import caller, optional_enum, repeated_enum
from devinsider_common.pages.names import PageKind, PageName, parse_child, parse_page, parse_singleton
from matching_service.adapters import proto_mapping as mapping
from matching_service.domain.matches import MatchFilters, MatchItem
from matching_service.domain.pages import TARGET_KINDS
from matching_service.domain.profile import PROFILE_FIELDS, CriteriaProfile
from matching_service.domain.scoring import shown
from matching_service.domain.taxonomy import Dimension, dimension_by_key
from matching_service.service_layer.app import MatchingApp


def _profile_page(name: str, path: str) -> PageName:
    return parse_singleton(name, "criteriaProfile", path)


def _ref(message: page_pb2.PageRef, path: str) -> PageName:
    page = parse_page(message.name, f"{path}.name")
    if message.kind and message.kind != int(page.kind):
        raise errors.InvalidArgument.for_field(f"{path}.kind", "does not match the name")
    return page


def _filters(
    min_score: float, dimensions: list[int], criteria: list[str], favorites_only: bool, explain: bool
) -> MatchFilters:
    v = errors.Violations()
    v.check(math.isfinite(min_score) and 0 <= min_score <= 100, "min_score", "must be between 0 and 100")
    dims = list(repeated_enum(Dimension, dimensions, "matched_dimensions", v))
    wanted = []
    for i, name in enumerate(criteria):
        parts = name.split("/")
        dimension = dimension_by_key(parts[1]) if len(parts) == 4 else None
        if dimension is None or parts[0] != "dimensions" or parts[2] != "criteria" or not parts[3]:
            v.add(f"criteria[{i}]", "must look like `dimensions/{dimension}/criteria/{criterion}`")
        else:
            wanted.append((dimension, parts[3]))
    v.raise_if_any()
    return MatchFilters(min_score, tuple(dict.fromkeys(dims)), tuple(dict.fromkeys(wanted)), favorites_only, explain)


def _match(item: MatchItem) -> pb.Match:
    return pb.Match(
        summary=mapping.summary_to_proto(item.page, item.status),
        score=shown(item.score),
        favorite=item.favorite,
        dimensions=[mapping.dimension_score_to_proto(d) for d in item.dimensions],
    )


class MatchingServicer(matching_pb2_grpc.MatchingServiceServicer):
    def __init__(self, app: MatchingApp) -> None:
        self._app = app

    # -- taxonomy ----------------------------------------------------------------------------------
    def GetTaxonomy(self, request: pb.GetTaxonomyRequest, context: grpc.ServicerContext) -> pb.Taxonomy:
        return mapping.taxonomy_to_proto(self._app.taxonomy.get(request.version))

    def ListCriteria(self, request: pb.ListCriteriaRequest, context: grpc.ServicerContext) -> pb.ListCriteriaResponse:
        collection, _, key = request.parent.partition("/")
        dimension = dimension_by_key(key) if collection == "dimensions" else None
        if dimension is None:
            raise errors.InvalidArgument.for_field("parent", "must look like `dimensions/{dimension}`")
        items, token, version = self._app.taxonomy.list_criteria(
            dimension,
            request.page_size,
            request.page_token,
            request.query,
            request.parent_code,
            request.show_deprecated,
        )
        return pb.ListCriteriaResponse(
            criteria=[mapping.criterion_to_proto(c) for c in items], next_page_token=token, taxonomy_version=version
        )

    # -- profiles ----------------------------------------------------------------------------------
    def GetCriteriaProfile(
        self, request: pb.GetCriteriaProfileRequest, context: grpc.ServicerContext
    ) -> pb.CriteriaProfile:
        page = _profile_page(request.name, "name")
        return mapping.profile_to_proto(self._app.profiles.get(caller(), page))

    def UpdateCriteriaProfile(
        self, request: pb.UpdateCriteriaProfileRequest, context: grpc.ServicerContext
    ) -> pb.CriteriaProfile:
        message = request.criteria_profile
        page = _profile_page(message.name, "criteria_profile.name")
        fields = resolve_update_mask(request.update_mask, message, PROFILE_FIELDS, "criteria_profile")
        criteria = mapping.criteria_from_proto(list(message.criteria))
        changes = CriteriaProfile(
            page,
            criteria,
            mapping.funding_need_from_proto(message),
            mapping.ticket_range_from_proto(message),
        )
        return mapping.profile_to_proto(self._app.profiles.update(caller(), changes, set(fields)))

    # -- scores and matches -----------------------------------------------------------------------------
    def ScoreMatch(self, request: pb.ScoreMatchRequest, context: grpc.ServicerContext) -> pb.MatchScore:
        company = parse_page(request.company, "company", (PageKind.COMPANY,))
        target = parse_page(request.target, "target", TARGET_KINDS)
        result = self._app.matches.score(caller(), company, target)
        return pb.MatchScore(
            company=company.name,
            target=mapping.page_ref(target),
            eligible=result.gate.value == 0,
            gate=mapping.gate_to_proto(result.gate),
            score=shown(result.score),
            dimensions=[mapping.dimension_score_to_proto(d) for d in result.dimensions],
            taxonomy_version=result.taxonomy_version,
        )

    def ListCompanyMatches(
        self, request: pb.ListCompanyMatchesRequest, context: grpc.ServicerContext
    ) -> pb.ListCompanyMatchesResponse:
        company = parse_page(request.parent, "parent", (PageKind.COMPANY,))
        if request.target_kind not in (int(k) for k in TARGET_KINDS):
            raise errors.InvalidArgument.for_field("target_kind", "must be PAGE_KIND_PROGRAM or PAGE_KIND_INVESTOR")
        filters = _filters(
            request.min_score,
            list(request.matched_dimensions),
            list(request.criteria),
            request.favorites_only,
            request.explain,
        )
        listed = self._app.matches.list_matches(
            caller(), company, PageKind(request.target_kind), request.page_size, request.page_token, filters
        )
        return pb.ListCompanyMatchesResponse(
            matches=[_match(i) for i in listed.items],
            next_page_token=listed.next_page_token,
            total_size=listed.total_size,
            hidden_match_count=listed.hidden,
        )

    def ListProgramMatches(
        self, request: pb.ListProgramMatchesRequest, context: grpc.ServicerContext
    ) -> pb.ListProgramMatchesResponse:
        program = parse_page(request.parent, "parent", (PageKind.PROGRAM,))
        filters = _filters(
            request.min_score,
            list(request.matched_dimensions),
            list(request.criteria),
            request.favorites_only,
            request.explain,
        )
        listed = self._app.matches.list_matches(
            caller(), program, PageKind.COMPANY, request.page_size, request.page_token, filters
        )
        return pb.ListProgramMatchesResponse(
            matches=[_match(i) for i in listed.items],
            next_page_token=listed.next_page_token,
            total_size=listed.total_size,
            hidden_match_count=listed.hidden,
        )

    def ListInvestorMatches(
        self, request: pb.ListInvestorMatchesRequest, context: grpc.ServicerContext
    ) -> pb.ListInvestorMatchesResponse:
        investor = parse_page(request.parent, "parent", (PageKind.INVESTOR,))
        filters = _filters(
            request.min_score,
            list(request.matched_dimensions),
            list(request.criteria),
            request.favorites_only,
            request.explain,
        )
        listed = self._app.matches.list_matches(
            caller(), investor, PageKind.COMPANY, request.page_size, request.page_token, filters
        )
        return pb.ListInvestorMatchesResponse(
            matches=[_match(i) for i in listed.items],
            next_page_token=listed.next_page_token,
            total_size=listed.total_size,
            hidden_match_count=listed.hidden,
        )

    # -- favorites -------------------------------------------------------------------------------------
    def ListFavorites(
        self, request: pb.ListFavoritesRequest, context: grpc.ServicerContext
    ) -> pb.ListFavoritesResponse:
        owner = parse_page(request.parent, "parent")
        kind = optional_enum(PageKind, request.kind, "kind")
        views, token = self._app.social.list_favorites(caller(), owner, request.page_size, request.page_token, kind)
        return pb.ListFavoritesResponse(favorites=[mapping.favorite_to_proto(v) for v in views], next_page_token=token)

    def CreateFavorite(self, request: pb.CreateFavoriteRequest, context: grpc.ServicerContext) -> pb.Favorite:
        owner = parse_page(request.parent, "parent")
        page = _ref(request.favorite.page, "favorite.page")
        return mapping.favorite_to_proto(self._app.social.add_favorite(caller(), owner, page))

    def DeleteFavorite(self, request: pb.DeleteFavoriteRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        owner, favorite_id = parse_child(request.name, "favorites")
        self._app.social.remove_favorite(caller(), owner, favorite_id)
        return empty_pb2.Empty()

    # -- blocks ----------------------------------------------------------------------------------------
    def ListBlocks(self, request: pb.ListBlocksRequest, context: grpc.ServicerContext) -> pb.ListBlocksResponse:
        blocker = parse_page(request.parent, "parent")
        views, token = self._app.social.list_blocks(caller(), blocker, request.page_size, request.page_token)
        return pb.ListBlocksResponse(blocks=[mapping.block_to_proto(v) for v in views], next_page_token=token)

    def CreateBlock(self, request: pb.CreateBlockRequest, context: grpc.ServicerContext) -> pb.Block:
        blocker = parse_page(request.parent, "parent")
        page = _ref(request.block.page, "block.page")
        return mapping.block_to_proto(self._app.social.block(caller(), blocker, page, request.block.reason))

    def DeleteBlock(self, request: pb.DeleteBlockRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        blocker, block_id = parse_child(request.name, "blocks")
        self._app.social.unblock(caller(), blocker, block_id)
        return empty_pb2.Empty()

    def CheckBlocked(self, request: pb.CheckBlockedRequest, context: grpc.ServicerContext) -> pb.CheckBlockedResponse:
        v = errors.Violations()
        v.check(bool(request.page_a), "page_a", "is required")
        v.check(bool(request.page_b), "page_b", "is required")
        v.raise_if_any()
        a, b = parse_page(request.page_a, "page_a"), parse_page(request.page_b, "page_b")
        return pb.CheckBlockedResponse(
            blocked=self._app.social.blocked(a, b), cache_ttl_seconds=self._app.config.check_blocked_ttl_seconds
        )

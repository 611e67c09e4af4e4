"""Explained scores of one pair, and match lists from the in-memory index, capped by the listing page's plan
(billing's `match_results_visible`, `domain/matches.py`) for every kind of page and every caller."""

from __future__ import annotations

from devinsider_common import errors
from devinsider_common.auth.principal import Principal
from devinsider_common.entitlements import Unrestricted
from devinsider_common.pages.names import PageKind, PageName, parse_page
from devinsider_common.pages.roles import PagePermission
from devinsider_common.pagination import ListLimits, list_window, next_page_token
from matching_service.domain.gates import Gate, first_gate
from matching_service.domain.matches import MatchFilters, MatchItem, MatchList, Query, ScoreResult, position
from matching_service.domain.pages import PageStatus, effective
from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.scoring import DimensionScore, score_pair
from matching_service.index.engine import Ranked
from matching_service.service_layer.common import MatchingConfig, UowFactory, authorize
from matching_service.service_layer.index_sync import IndexSync
from matching_service.service_layer.ports import EntitlementsSource, PageDirectory


class MatchUseCases:
    def __init__(
        self,
        uow: UowFactory,
        directory: PageDirectory,
        sync: IndexSync,
        config: MatchingConfig,
        limits: ListLimits,
        entitlements: EntitlementsSource | None = None,
    ) -> None:
        self._uow = uow
        self._directory = directory
        self._sync = sync
        self._config = config
        self._limits = limits
        self._entitlements = entitlements or Unrestricted()  # BILLING_TARGET empty: every match is shown

    def score(self, principal: Principal, company: PageName, target: PageName) -> ScoreResult:
        if not principal.is_staff_or_service and not (
            self._directory.allowed(company.name, principal.subject, PagePermission.VIEW_PRIVATE)
            or self._directory.allowed(target.name, principal.subject, PagePermission.VIEW_PRIVATE)
        ):
            raise errors.PermissionDenied(
                "this needs the view_private permission on the company or the target", reason="PAGE_PERMISSION_DENIED"
            )
        taxonomy = self._sync.taxonomy()
        fresh = self._directory.statuses([company.name, target.name])
        with self._uow() as uow:  # read only: storing fresh statuses is the status refresh job's
            profiles = uow.profiles.get_many([company.name, target.name])
            stored = uow.statuses.get_many([company.name, target.name])
            blocked = uow.blocks.either_way(company.name, target.name)
        statuses = stored | fresh  # the owning services' word first, the stored one if they gave none
        company_profile, target_profile = (
            effective(profiles.get(p.name) or CriteriaProfile(p), statuses.get(p.name), taxonomy)
            for p in (company, target)
        )
        scored = score_pair(taxonomy, company_profile, target_profile, self._config.weights[target.kind])
        gate = first_gate(
            statuses.get(company.name) or PageStatus(company),
            statuses.get(target.name) or PageStatus(target),
            company_profile,
            blocked=blocked,
            required_unmet=scored.required_unmet,
        )
        if gate is not Gate.NONE:
            return ScoreResult(company, target, gate, 0.0, (), taxonomy.version)
        return ScoreResult(company, target, gate, scored.score, scored.dimensions, taxonomy.version)

    def list_matches(
        self,
        principal: Principal,
        anchor: PageName,
        other_kind: PageKind,
        page_size: int,
        page_token: str,
        filters: MatchFilters,
    ) -> MatchList:
        authorize(self._directory, principal, anchor.name, PagePermission.VIEW_PRIVATE)
        fingerprint = {
            "k": int(other_kind),
            "m": filters.min_score,
            "d": [int(d) for d in filters.full_dimensions],
            "c": [f"{int(d)}:{c}" for d, c in filters.criteria],
            "f": filters.favorites_only,
        }
        window = list_window(page_size, page_token, self._limits, filters=fingerprint)
        after: tuple[float, str] | None = None
        if window.after:
            try:
                after = position(float(window.after[0]), str(window.after[1]))
            except (IndexError, TypeError, ValueError) as error:
                raise errors.InvalidArgument.for_field("page_token", "is not a token this API issued") from error
        with self._uow(read_only=True) as uow:  # one statement, in autocommit
            excluded, favorites = uow.hidden_and_favorites(anchor.name)
        query = Query(
            excluded=excluded,
            only=favorites if filters.favorites_only else None,
            min_score=filters.min_score,
            full_dimensions=filters.full_dimensions,
            criteria=filters.criteria,
            after=after,
            limit=window.size,
            cap=self._entitlements.of(anchor).match_results_visible,
        )
        index = self._sync.index()
        ranked: Ranked
        if anchor.kind is PageKind.COMPANY:
            ranked = index.rank_targets(anchor.name, other_kind, query)
        else:
            ranked = index.rank_companies(anchor.name, anchor.kind, query)
        statuses = self._summaries(ranked.names)
        explained = self._explain(anchor, other_kind, ranked.names) if filters.explain else {}
        items = []
        for name, score in zip(ranked.names, ranked.scores, strict=True):
            dims = explained.get(name)
            items.append(
                MatchItem(
                    parse_page(name, "page", (other_kind,)),
                    dims[0] if dims else score,
                    name in favorites,
                    statuses.get(name),
                    dims[1] if dims else (),
                )
            )
        last = position(ranked.scores[-1], ranked.names[-1]) if ranked.names else None
        return MatchList(items, next_page_token(window, last, ranked.more), ranked.total, ranked.hidden)

    def _summaries(self, names: list[str]) -> dict[str, PageStatus]:
        """Summaries from the owning services (cached, one batch call for the others); the last stored ones
        for pages they leave out."""
        if not names:
            return {}
        fresh = self._directory.summaries(names)
        missing = [n for n in names if n not in fresh]
        if missing:
            with self._uow() as uow:
                fresh |= uow.statuses.get_many(missing)
        return fresh

    def _explain(
        self, anchor: PageName, other_kind: PageKind, names: list[str]
    ) -> dict[str, tuple[float, tuple[DimensionScore, ...]]]:
        taxonomy = self._sync.taxonomy()
        with self._uow() as uow:  # the stored statuses' facts, as the index scored them
            profiles = uow.profiles.get_many([anchor.name, *names])
            statuses = uow.statuses.get_many([anchor.name, *names])

        def profile_of(page: PageName) -> CriteriaProfile:
            return effective(profiles.get(page.name) or CriteriaProfile(page), statuses.get(page.name), taxonomy)

        mine = profile_of(anchor)
        out = {}
        for name in names:
            other = profile_of(parse_page(name, "page", (other_kind,)))
            company, target = (mine, other) if anchor.kind is PageKind.COMPANY else (other, mine)
            scored = score_pair(taxonomy, company, target, self._config.weights[target.page.kind])
            out[name] = (scored.score, scored.dimensions)
        return out

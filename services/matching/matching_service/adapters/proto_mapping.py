"""Domain <-> proto messages of devinsider.matching.v1."""

from __future__ import annotations

from datetime import datetime

from devinsider.common.v1 import money_pb2, page_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider_common.errors import Violations
from devinsider_common.grpc.requests import optional_enum
from devinsider_common.pages.names import PageName
from matching_service.domain.gates import Gate
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import (
    Criteria,
    CriteriaProfile,
    FundingNeed,
    Money,
    TicketRange,
    page_dimensions,
)
from matching_service.domain.scoring import DimensionScore, shown
from matching_service.domain.social import BlockView, FavoriteView
from matching_service.domain.taxonomy import DISPLAY_NAMES, Criterion, Dimension, Taxonomy


def _stamp(message: object, field: str, value: datetime | None) -> None:
    if value is not None:
        getattr(message, field).FromDatetime(value)


def page_ref(page: PageName) -> page_pb2.PageRef:
    return page_pb2.PageRef(kind=int(page.kind), name=page.name)  # type: ignore[arg-type]


def criterion_to_proto(c: Criterion) -> pb.Criterion:
    return pb.Criterion(
        name=c.name,
        dimension=int(c.dimension),  # type: ignore[arg-type]
        code=c.code,
        display_name=c.display_name,
        parent=c.parent,
        rank=c.rank,
        deprecated=c.deprecated,
    )


def taxonomy_to_proto(taxonomy: Taxonomy) -> pb.Taxonomy:
    message = pb.Taxonomy(name="taxonomy", version=taxonomy.version)
    for dimension in Dimension:
        message.dimensions.append(
            pb.TaxonomyDimension(
                name=f"dimensions/{dimension.key}",
                dimension=int(dimension),  # type: ignore[arg-type]
                display_name=DISPLAY_NAMES[dimension],
                scale=int(dimension.scale),  # type: ignore[arg-type]
                criteria=[criterion_to_proto(c) for c in taxonomy.by_dimension[dimension]],
            )
        )
    _stamp(message, "update_time", taxonomy.published_at)
    return message


def _money(m: Money | None) -> money_pb2.Money | None:
    return money_pb2.Money(currency_code=m.currency_code, amount_minor=m.amount_minor) if m else None


def money_from_proto(m: money_pb2.Money) -> Money:
    return Money(m.currency_code.strip().upper(), m.amount_minor)


def profile_to_proto(profile: CriteriaProfile) -> pb.CriteriaProfile:
    message = pb.CriteriaProfile(
        name=profile.name,
        page=page_ref(profile.page),
        taxonomy_version=profile.taxonomy_version,
        page_dimensions=[int(d) for d in page_dimensions(profile.page.kind)],  # type: ignore[misc]
    )
    for dimension, entry in sorted(profile.criteria.items()):
        message.criteria.append(
            pb.ProfileCriterion(dimension=int(dimension), codes=list(entry.codes), required=entry.required)  # type: ignore[arg-type]
        )
    if profile.funding_need is not None:
        message.funding_need.CopyFrom(
            pb.FundingNeed(
                looking_for_funding=profile.funding_need.looking_for_funding,
                amount=_money(profile.funding_need.amount),
            )
        )
    if profile.ticket_range is not None:
        t = profile.ticket_range
        message.ticket_range.CopyFrom(pb.TicketRange(min=_money(t.min), max=_money(t.max), required=t.required))
    _stamp(message, "update_time", profile.updated_at)
    return message


def criteria_from_proto(items: list[pb.ProfileCriterion]) -> dict[Dimension, Criteria]:
    """The criteria by dimension; INVALID_ARGUMENT naming every missing, unknown or repeated dimension."""
    found: dict[Dimension, Criteria] = {}
    checks = Violations()
    for i, item in enumerate(items):
        path = f"criteria_profile.criteria[{i}].dimension"
        checks.check(bool(item.dimension), path, "is required")
        dimension = optional_enum(Dimension, item.dimension, path, checks)
        if dimension is None:
            continue
        if dimension in found:
            checks.add(path, f"{dimension.key} is given twice")
            continue
        codes = tuple(dict.fromkeys(c.strip() for c in item.codes if c.strip()))
        found[dimension] = Criteria(codes, item.required)
    checks.raise_if_any()
    return found


def funding_need_from_proto(message: pb.CriteriaProfile) -> FundingNeed | None:
    if not message.HasField("funding_need"):
        return None
    need = message.funding_need
    return FundingNeed(need.looking_for_funding, money_from_proto(need.amount) if need.HasField("amount") else None)


def ticket_range_from_proto(message: pb.CriteriaProfile) -> TicketRange | None:
    if not message.HasField("ticket_range"):
        return None
    t = message.ticket_range
    low = money_from_proto(t.min) if t.HasField("min") else None
    return TicketRange(low, money_from_proto(t.max) if t.HasField("max") else None, t.required)


def dimension_score_to_proto(d: DimensionScore) -> pb.DimensionScore:
    return pb.DimensionScore(
        dimension=int(d.fit.dimension),  # type: ignore[arg-type]
        weight=d.weight,
        fit=d.fit.fit,
        contribution=shown(d.contribution),
        matched=list(d.fit.matched),
        partial=list(d.fit.partial),
        missing=list(d.fit.missing),
        required=d.fit.required,
    )


def gate_to_proto(gate: Gate) -> pb.MatchGate.ValueType:
    return pb.MatchGate.Value(f"MATCH_GATE_{gate.name}") if gate is not Gate.NONE else pb.MATCH_GATE_UNSPECIFIED


def summary_to_proto(page: PageName, status: PageStatus | None) -> pb.PageSummary:
    message = pb.PageSummary(page=page_ref(page))
    if status is not None:
        message.display_name = status.display_name
        message.logo_url = status.logo_url
        message.tagline = status.tagline
        message.country_code = status.country_code
    return message


def favorite_to_proto(view: FavoriteView) -> pb.Favorite:
    f, status = view.favorite, view.status
    message = pb.Favorite(
        name=f.name, page=page_ref(f.page), summary=summary_to_proto(f.page, status), creator=f.creator
    )
    _stamp(message, "create_time", f.created_at)
    return message


def block_to_proto(view: BlockView) -> pb.Block:
    b, status = view.block, view.status
    message = pb.Block(
        name=b.name, page=page_ref(b.page), reason=b.reason, summary=summary_to_proto(b.page, status), creator=b.creator
    )
    _stamp(message, "create_time", b.created_at)
    return message

"""Proto builders of the transport tests: criteria, money, a profile update through a stub."""

from __future__ import annotations

from google.protobuf import field_mask_pb2

from devinsider.common.v1 import money_pb2
from devinsider.matching.v1 import matching_pb2 as pb
from devinsider.matching.v1 import matching_pb2_grpc
from devinsider_common.testing.services import Metadata

Stub = matching_pb2_grpc.MatchingServiceStub
IND, TECH, COUNTRY, STAGE = (
    pb.DIMENSION_INDUSTRY,
    pb.DIMENSION_TECHNOLOGY,
    pb.DIMENSION_COUNTRY,
    pb.DIMENSION_FUNDING_STAGE,
)


def crit(dimension: int, *codes: str, required: bool = False) -> pb.ProfileCriterion:
    return pb.ProfileCriterion(dimension=dimension, codes=list(codes), required=required)  # type: ignore[arg-type]


def set_profile(
    stub: Stub, page: str, auth: Metadata, *criteria: pb.ProfileCriterion, **extra: object
) -> pb.CriteriaProfile:
    """Set the profile's criteria (and `extra` fields); with none, an empty profile (the page's facts alone)."""
    profile = pb.CriteriaProfile(name=f"{page}/criteriaProfile", criteria=list(criteria), **extra)  # type: ignore[arg-type]
    mask = None if criteria or extra else field_mask_pb2.FieldMask(paths=["criteria"])
    request = pb.UpdateCriteriaProfileRequest(criteria_profile=profile, update_mask=mask)
    return stub.UpdateCriteriaProfile(request, metadata=auth)


def eur(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", amount_minor=amount)

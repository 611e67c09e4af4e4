"""ListInvestors: filters, orders, AIP pagination (stable, capped, tokens bound to their filters)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from devinsider.common.v1 import money_pb2
from devinsider.investor.v1 import investor_pb2, investor_pb2_grpc
from investor_service.bootstrap import start

from ..conftest import Builder, TokenFactory, bearer, make_settings, new_investor, rpc_error

pb = investor_pb2


def _eur(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", amount_minor=amount)


def _create(builder: Builder, owner: str, name: str, **fields: object) -> str:
    request = pb.CreateInvestorRequest(investor=new_investor(name, **fields))
    return builder.stub.CreateInvestor(request, metadata=builder.auth(owner)).name


@pytest.fixture
def directory(builder: Builder) -> dict[str, str]:
    """Five investors with distinct profiles; display name -> resource name."""
    return {
        "Alpha Angels": _create(
            builder,
            "kc-alpha",
            "Alpha Angels",
            category=pb.INVESTOR_CATEGORY_INDIVIDUAL,
            investor_type=pb.INVESTOR_TYPE_BUSINESS_ANGEL,
            funding_stages=["pre_seed", "seed"],
            industries=["fintech"],
            country_codes=["FR"],
            ticket_min=_eur(10_000_00),
            ticket_max=_eur(100_000_00),
            description="We back first-time founders in payments.",
        ),
        "beta Capital": _create(
            builder,
            "kc-beta",
            "beta Capital",
            funding_stages=["series_a"],
            industries=["healthtech", "fintech"],
            country_codes=["DE", "FR"],
            ticket_min=_eur(1_000_000_00),
            ticket_max=_eur(5_000_000_00),
        ),
        "Gamma Growth": _create(
            builder,
            "kc-gamma",
            "Gamma Growth",
            investor_type=pb.INVESTOR_TYPE_PRIVATE_EQUITY,
            funding_stages=["growth"],
            country_codes=["US"],
            ticket_min=money_pb2.Money(currency_code="USD", amount_minor=10_000_000_00),
            tagline="Late-stage software buyouts",
        ),
        "Delta Family": _create(
            builder,
            "kc-alpha",
            "Delta Family",
            investor_type=pb.INVESTOR_TYPE_FAMILY_OFFICE,
            industries=["proptech"],
        ),
        "epsilon Ventures": _create(builder, "kc-eps", "epsilon Ventures", funding_stages=["seed"]),
    }


def _names(stub: investor_pb2_grpc.InvestorServiceStub, **filters: object) -> list[str]:
    response = stub.ListInvestors(pb.ListInvestorsRequest(**filters))  # type: ignore[arg-type]
    return [i.display_name for i in response.investors]


def test_filters_combine_with_and_values_with_or(builder: Builder, directory: dict[str, str]) -> None:
    s = builder.stub
    everyone = ["Alpha Angels", "beta Capital", "Delta Family", "epsilon Ventures", "Gamma Growth"]
    assert _names(s) == everyone  # display_name order, case-insensitive
    assert _names(s, query="PAYMENTS") == ["Alpha Angels"]  # description
    assert _names(s, query="buyouts") == ["Gamma Growth"]  # tagline
    assert _names(s, query="capital") == ["beta Capital"]
    assert _names(s, query="100%_") == []  # LIKE wildcards are literal
    assert _names(s, categories=[pb.INVESTOR_CATEGORY_INDIVIDUAL]) == ["Alpha Angels"]
    types = [pb.INVESTOR_TYPE_PRIVATE_EQUITY, pb.INVESTOR_TYPE_FAMILY_OFFICE]
    assert _names(s, investor_types=types) == ["Delta Family", "Gamma Growth"]
    assert _names(s, funding_stages=["seed"]) == ["Alpha Angels", "epsilon Ventures"]
    assert _names(s, funding_stages=["SEED", "growth"]) == ["Alpha Angels", "epsilon Ventures", "Gamma Growth"]
    assert _names(s, industries=["fintech"]) == ["Alpha Angels", "beta Capital"]
    assert _names(s, industries=["fintech"], country_codes=["de"]) == ["beta Capital"]
    assert _names(s, industries=["fintech"], funding_stages=["seed"], country_codes=["FR"]) == ["Alpha Angels"]
    assert _names(s, ticket_amount_minor=50_000_00, currency_code="EUR") == ["Alpha Angels"]
    assert _names(s, ticket_amount_minor=2_000_000_00, currency_code="eur") == ["beta Capital"]
    assert _names(s, ticket_amount_minor=99_000_000_00, currency_code="USD") == ["Gamma Growth"]  # no max
    assert _names(s, ticket_amount_minor=1, currency_code="USD") == []


def test_orders_and_total_size(builder: Builder, directory: dict[str, str]) -> None:
    s = builder.stub
    newest_first = list(reversed(list(directory)))
    assert _names(s, order_by="create_time desc") == newest_first
    owner = builder.auth("kc-beta")
    s.UpdateInvestor(
        pb.UpdateInvestorRequest(
            investor=pb.Investor(name=directory["beta Capital"], tagline="Now leading series A"),
            update_mask=field_mask_pb2.FieldMask(paths=["tagline"]),
        ),
        metadata=owner,
    )
    assert _names(s, order_by="update_time  DESC")[0] == "beta Capital"
    response = s.ListInvestors(pb.ListInvestorsRequest(page_size=2, funding_stages=["seed", "series_a"]))
    assert response.total_size == 3 and len(response.investors) == 2


@pytest.mark.parametrize("order_by", ["", "create_time desc", "update_time desc"])
def test_pages_cover_everything_once_in_a_stable_order(
    builder: Builder, directory: dict[str, str], order_by: str
) -> None:
    for index in range(7):  # same display names: the id breaks the tie
        _create(builder, f"kc-twin-{index}", "Twin Fund")
    expected = _names(builder.stub, order_by=order_by, page_size=100)
    seen: list[str] = []
    token = ""
    while True:
        response = builder.stub.ListInvestors(pb.ListInvestorsRequest(order_by=order_by, page_size=3, page_token=token))
        assert len(response.investors) <= 3
        seen += [i.name for i in response.investors]
        token = response.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 12
    full = builder.stub.ListInvestors(pb.ListInvestorsRequest(order_by=order_by, page_size=100))
    assert seen == [i.name for i in full.investors] and len(expected) == 12


def test_page_size_is_capped(tmp_path: Path, database: tuple[str, str], token: TokenFactory) -> None:
    service = start(make_settings(tmp_path, *database, max_page_size=4, default_page_size=2), run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = investor_pb2_grpc.InvestorServiceStub(channel)
            for index in range(6):
                request = pb.CreateInvestorRequest(investor=new_investor(f"Fund {index}"))
                stub.CreateInvestor(request, metadata=bearer(token("kc-ada")))
            assert len(stub.ListInvestors(pb.ListInvestorsRequest(page_size=1000)).investors) == 4
            assert len(stub.ListInvestors(pb.ListInvestorsRequest()).investors) == 2
    finally:
        service.stop(grace=0)


def test_bad_requests_name_their_fields(builder: Builder, directory: dict[str, str]) -> None:
    s = builder.stub
    first = s.ListInvestors(pb.ListInvestorsRequest(page_size=1, industries=["fintech"]))
    cases: list[tuple[pb.ListInvestorsRequest, list[str]]] = [
        (pb.ListInvestorsRequest(page_size=-1), ["page_size"]),
        (pb.ListInvestorsRequest(page_token="garbage"), ["page_token"]),
        # A token replayed with other filters or another order is refused, never a wrong page.
        (pb.ListInvestorsRequest(page_token=first.next_page_token, industries=["proptech"]), ["page_token"]),
        (pb.ListInvestorsRequest(page_token=first.next_page_token, order_by="create_time desc"), ["page_token"]),
        (pb.ListInvestorsRequest(order_by="name"), ["order_by"]),
        (pb.ListInvestorsRequest(ticket_amount_minor=100), ["currency_code"]),
        (
            pb.ListInvestorsRequest(
                categories=[7],  # type: ignore[list-item]
                investor_types=[42],  # type: ignore[list-item]
                states=[9],  # type: ignore[list-item]
                funding_stages=["Seed Stage"],
                country_codes=["FRA"],
                ticket_amount_minor=-5,
                currency_code="EUR",
            ),
            [
                "categories[0]",
                "country_codes[0]",
                "funding_stages[0]",
                "investor_types[0]",
                "states[0]",
                "ticket_amount_minor",
            ],
        ),
    ]
    for request, fields in cases:
        with pytest.raises(grpc.RpcError) as call:
            s.ListInvestors(request)
        code, _, got = rpc_error(call)
        assert (code, sorted(got)) == (grpc.StatusCode.INVALID_ARGUMENT, fields), request


def test_caller_is_member_lists_the_callers_pages(builder: Builder, directory: dict[str, str]) -> None:
    mine = builder.stub.ListInvestors(pb.ListInvestorsRequest(caller_is_member=True), metadata=builder.auth("kc-alpha"))
    assert [i.display_name for i in mine.investors] == ["Alpha Angels", "Delta Family"]
    assert all(i.viewer_role and not i.contact.email for i in mine.investors)  # directory: public view
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.ListInvestors(pb.ListInvestorsRequest(caller_is_member=True))
    assert call.value.code() == grpc.StatusCode.UNAUTHENTICATED

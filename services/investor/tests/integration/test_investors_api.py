"""Investor pages through the real server: create, get, update with masks, delete, batch get, access."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from devinsider.common.v1 import money_pb2, page_pb2
from devinsider.investor.v1 import events_pb2, investor_pb2
from devinsider_common.outbox.envelope import from_json, unpack_payload
from devinsider_common.outbox.tables import outbox_messages
from investor_service.bootstrap import InvestorService

from ..conftest import Builder, new_investor, rpc_error

STAFF = ("admin",)
SERVICE = ("service",)


def _events(service: InvestorService, event_type: str) -> list[bytes]:
    query = outbox_messages.select().where(outbox_messages.c.event_type == event_type).order_by(outbox_messages.c.id)
    with service.engine.connect() as connection:
        return [row.body for row in connection.execute(query)]


def _eur(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", amount_minor=amount)


def test_create_makes_the_caller_owner_and_publishes(builder: Builder, service: InvestorService) -> None:
    investor = new_investor(
        " Northwind Ventures ",
        tagline="Seed funds for B2B software",
        website_url="https://northwind.example",
        hq_country_code="fr",
        ticket_min=_eur(50_000_00),
        ticket_max=_eur(2_000_000_00),
        funding_stages=["seed", "Series_A", "seed"],
        country_codes=["fr", "DE"],
        contact=investor_pb2.InvestorContact(email="Deals@Northwind.example", phone_number="+33612345678"),
        state=investor_pb2.INVESTOR_STATE_DELETED,  # output only: ignored
    )
    created = builder.stub.CreateInvestor(
        investor_pb2.CreateInvestorRequest(investor=investor), metadata=builder.auth("kc-ada")
    )
    assert created.display_name == "Northwind Ventures" and created.hq_country_code == "FR"
    assert list(created.funding_stages) == ["seed", "series_a"] and list(created.country_codes) == ["FR", "DE"]
    assert created.state == investor_pb2.INVESTOR_STATE_ACTIVE
    assert created.viewer_role == page_pb2.PAGE_ROLE_OWNER and created.contact.email == "deals@northwind.example"
    members = builder.stub.ListMembers(
        investor_pb2.ListMembersRequest(parent=created.name), metadata=builder.auth("kc-ada")
    )
    assert [(m.subject, m.role, m.email) for m in members.members] == [
        ("kc-ada", page_pb2.PAGE_ROLE_OWNER, "kc-ada@example.com")
    ]
    [body] = _events(service, "devinsider.investor.v1.InvestorCreated")
    event = unpack_payload(from_json(body), events_pb2.InvestorCreated)
    assert event.investor.name == created.name and event.creator == "kc-ada"
    assert event.investor.contact.email == "deals@northwind.example"  # Odoo gets every field
    assert len(_events(service, "devinsider.investor.v1.MemberAdded")) == 1


def test_create_is_idempotent_with_a_request_id(builder: Builder, service: InvestorService) -> None:
    request = investor_pb2.CreateInvestorRequest(investor=new_investor("Once Fund"), request_id="req-42")
    first = builder.stub.CreateInvestor(request, metadata=builder.auth("kc-ada"))
    again = builder.stub.CreateInvestor(request, metadata=builder.auth("kc-ada"))
    other = builder.stub.CreateInvestor(request, metadata=builder.auth("kc-bob"))  # keys are per caller
    assert first.name == again.name != other.name
    assert len(_events(service, "devinsider.investor.v1.InvestorCreated")) == 2


def test_create_reports_every_bad_field(builder: Builder) -> None:
    investor = investor_pb2.Investor(
        display_name="",
        investor_type=99,  # type: ignore[arg-type]
        website_url="ftp://x.example",
        logo_url="http://insecure.example/logo.png",
        hq_country_code="France",
        ticket_min=_eur(500),
        ticket_max=money_pb2.Money(currency_code="USD", amount_minor=1000),
        industries=["Fin Tech!"],
        country_codes=["FR", "XXX"],
        contact=investor_pb2.InvestorContact(email="not-an-email", phone_number="0612"),
    )
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.CreateInvestor(
            investor_pb2.CreateInvestorRequest(investor=investor), metadata=builder.auth("kc-ada")
        )
    code, reason, fields = rpc_error(call)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and reason == "INVALID_ARGUMENT"
    assert sorted(fields) == sorted(
        [
            "investor.display_name",
            "investor.category",
            "investor.investor_type",
            "investor.website_url",
            "investor.logo_url",
            "investor.hq_country_code",
            "investor.ticket_max.currency_code",
            "investor.industries[0]",
            "investor.country_codes[1]",
            "investor.contact.email",
            "investor.contact.phone_number",
        ]
    )


@pytest.mark.parametrize(
    ("low", "high", "field"),
    [
        (_eur(10_000), _eur(9_999), "investor.ticket_max"),
        (_eur(-1), None, "investor.ticket_min.amount_minor"),
        (money_pb2.Money(currency_code="eur", amount_minor=1), None, None),  # normalized to EUR
        (money_pb2.Money(currency_code="EURO", amount_minor=1), None, "investor.ticket_min.currency_code"),
    ],
)
def test_ticket_range_rules(
    builder: Builder, low: money_pb2.Money | None, high: money_pb2.Money | None, field: str | None
) -> None:
    request = investor_pb2.CreateInvestorRequest(investor=new_investor(ticket_min=low, ticket_max=high))
    if field is None:
        created = builder.stub.CreateInvestor(request, metadata=builder.auth("kc-ada"))
        assert created.ticket_min.currency_code == "EUR" and not created.HasField("ticket_max")
        return
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.CreateInvestor(request, metadata=builder.auth("kc-ada"))
    assert rpc_error(call)[2] == [field]


def test_update_changes_only_masked_fields_and_says_what_changed(builder: Builder, service: InvestorService) -> None:
    page = builder.page("p", roles=("editor",), invite=False)
    request = investor_pb2.UpdateInvestorRequest(
        investor=investor_pb2.Investor(
            name=page.name,
            display_name="Renamed Capital",
            tagline="ignored: not in the mask",
            ticket_max=_eur(100),
            contact=investor_pb2.InvestorContact(phone_number="+33700000000", email="ignored@x.example"),
        ),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name", "ticket_max", "contact.phone_number"]),
    )
    updated = builder.stub.UpdateInvestor(request, metadata=builder.auth("p-editor"))
    assert (updated.display_name, updated.tagline) == ("Renamed Capital", "")
    assert updated.ticket_max.amount_minor == 100 and updated.viewer_role == page_pb2.PAGE_ROLE_EDITOR
    assert (updated.contact.phone_number, updated.contact.email) == ("+33700000000", "deals@p.example")
    [body] = _events(service, "devinsider.investor.v1.InvestorUpdated")
    event = unpack_payload(from_json(body), events_pb2.InvestorUpdated)
    assert list(event.changed_fields) == ["display_name", "ticket_max", "contact.phone_number"]
    # The same values again change nothing and publish nothing.
    builder.stub.UpdateInvestor(request, metadata=builder.auth("p-editor"))
    assert len(_events(service, "devinsider.investor.v1.InvestorUpdated")) == 1


def test_without_a_mask_the_fields_sent_change_and_a_star_replaces_the_page(builder: Builder) -> None:
    page = builder.page("p", roles=(), invite=False)
    owner = builder.auth("p-owner")
    contact = investor_pb2.InvestorContact(phone_number="+33700000000")  # not its e-mail
    sent = investor_pb2.Investor(name=page.name, tagline="Seed to series A", contact=contact)
    updated = builder.stub.UpdateInvestor(investor_pb2.UpdateInvestorRequest(investor=sent), metadata=owner)
    assert updated.display_name.startswith("P Capital") and updated.tagline == "Seed to series A"
    assert (updated.contact.phone_number, updated.contact.email) == ("+33700000000", "deals@p.example")
    whole = new_investor("Whole Capital", name=page.name)
    star = field_mask_pb2.FieldMask(paths=["*"])
    replaced = builder.stub.UpdateInvestor(
        investor_pb2.UpdateInvestorRequest(investor=whole, update_mask=star), metadata=owner
    )
    assert (replaced.display_name, replaced.tagline, replaced.contact.email) == ("Whole Capital", "", "")


def test_update_validates_the_result_and_the_mask(builder: Builder) -> None:
    page = builder.page("p", roles=(), invite=False)
    owner = builder.auth("p-owner")
    builder.stub.UpdateInvestor(
        investor_pb2.UpdateInvestorRequest(
            investor=investor_pb2.Investor(name=page.name, ticket_min=_eur(1_000)),
            update_mask=field_mask_pb2.FieldMask(paths=["ticket_min"]),
        ),
        metadata=owner,
    )
    cases = [
        # ticket_max below the stored ticket_min: the range is checked on the result.
        (investor_pb2.Investor(name=page.name, ticket_max=_eur(999)), ["ticket_max"], ["investor.ticket_max"]),
        (investor_pb2.Investor(name=page.name), ["display_name"], ["investor.display_name"]),
        (investor_pb2.Investor(name=page.name), ["state"], ["update_mask.paths[state]"]),
        (investor_pb2.Investor(name=page.name), ["create_time", "name"], [
            "update_mask.paths[create_time]",
            "update_mask.paths[name]",
        ]),
        (investor_pb2.Investor(name="companies/x"), ["tagline"], ["investor.name"]),
    ]  # fmt: skip
    for investor, paths, fields in cases:
        request = investor_pb2.UpdateInvestorRequest(
            investor=investor, update_mask=field_mask_pb2.FieldMask(paths=paths)
        )
        with pytest.raises(grpc.RpcError) as call:
            builder.stub.UpdateInvestor(request, metadata=owner)
        code, _, got = rpc_error(call)
        assert (code, sorted(got)) == (grpc.StatusCode.INVALID_ARGUMENT, sorted(fields)), paths


def test_soft_delete_hides_the_page_keeps_it_for_staff_and_publishes(
    builder: Builder, service: InvestorService
) -> None:
    page = builder.page("p", roles=("admin",), invite=False)
    builder.stub.DeleteInvestor(investor_pb2.DeleteInvestorRequest(name=page.name), metadata=builder.auth("p-owner"))
    for caller in ("p-owner", "p-admin"):
        with pytest.raises(grpc.RpcError) as call:
            builder.stub.GetInvestor(investor_pb2.GetInvestorRequest(name=page.name), metadata=builder.auth(caller))
        assert rpc_error(call)[:2] == (grpc.StatusCode.NOT_FOUND, "INVESTOR_NOT_FOUND")
    with pytest.raises(grpc.RpcError) as again:  # members still hold the permission: existence answers
        builder.stub.DeleteInvestor(
            investor_pb2.DeleteInvestorRequest(name=page.name), metadata=builder.auth("p-owner")
        )
    assert again.value.code() == grpc.StatusCode.NOT_FOUND
    seen = builder.stub.GetInvestor(
        investor_pb2.GetInvestorRequest(name=page.name), metadata=builder.auth("kc-staff", STAFF)
    )
    assert seen.state == investor_pb2.INVESTOR_STATE_DELETED and seen.HasField("delete_time")
    assert builder.stub.ListInvestors(investor_pb2.ListInvestorsRequest()).investors == []
    deleted = builder.stub.ListInvestors(
        investor_pb2.ListInvestorsRequest(states=[investor_pb2.INVESTOR_STATE_DELETED]),
        metadata=builder.auth("kc-staff", STAFF),
    )
    assert [i.name for i in deleted.investors] == [page.name]
    service_auth = builder.auth("service-matching", SERVICE)
    batch = builder.stub.BatchGetInvestors(
        investor_pb2.BatchGetInvestorsRequest(names=[page.name]), metadata=service_auth
    )
    assert batch.investors == []
    access = builder.stub.CheckPageAccess(
        investor_pb2.CheckPageAccessRequest(
            page=page.name, subject="p-owner", permission=page_pb2.PAGE_PERMISSION_VIEW_PRIVATE
        ),
        metadata=service_auth,
    )
    assert (access.allowed, access.role) == (False, page_pb2.PAGE_ROLE_UNSPECIFIED)
    [body] = _events(service, "devinsider.investor.v1.InvestorDeleted")
    event = unpack_payload(from_json(body), events_pb2.InvestorDeleted)
    assert (event.name, event.deleter) == (page.name, "p-owner")


def test_non_staff_cannot_list_deleted_pages(builder: Builder) -> None:
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.ListInvestors(
            investor_pb2.ListInvestorsRequest(states=[investor_pb2.INVESTOR_STATE_DELETED]),
            metadata=builder.auth("kc-ada"),
        )
    assert rpc_error(call)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "STATE_FILTER_STAFF_ONLY")


def test_batch_get_keeps_request_order_and_skips_unknown(builder: Builder) -> None:
    first = builder.page("a", roles=(), invite=False)
    second = builder.page("b", roles=(), invite=False)
    unknown = "investors/01900000-0000-7000-8000-000000000000"
    auth = builder.auth("service-matching", SERVICE)
    got = builder.stub.BatchGetInvestors(
        investor_pb2.BatchGetInvestorsRequest(names=[second.name, unknown, first.name, second.name]), metadata=auth
    )
    assert [i.name for i in got.investors] == [second.name, first.name]
    assert all(i.contact.email and i.viewer_has_full_access for i in got.investors)
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.BatchGetInvestors(
            investor_pb2.BatchGetInvestorsRequest(names=[first.name, "users/x", "investors/"]), metadata=auth
        )
    assert rpc_error(call)[2] == ["names[1]", "names[2]"]
    too_many = investor_pb2.BatchGetInvestorsRequest(names=[first.name] * 201)
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.BatchGetInvestors(too_many, metadata=auth)
    assert rpc_error(call)[2] == ["names"]


def test_check_page_access_answers_from_page_roles(builder: Builder) -> None:
    page = builder.page("p", invite=False)
    auth = builder.auth("service-billing", SERVICE)
    expected = {
        ("p-owner", page_pb2.PAGE_PERMISSION_DELETE): (True, page_pb2.PAGE_ROLE_OWNER),
        ("p-admin", page_pb2.PAGE_PERMISSION_DELETE): (False, page_pb2.PAGE_ROLE_ADMIN),
        ("p-admin", page_pb2.PAGE_PERMISSION_MANAGE_BILLING): (True, page_pb2.PAGE_ROLE_ADMIN),
        ("p-editor", page_pb2.PAGE_PERMISSION_EDIT): (True, page_pb2.PAGE_ROLE_EDITOR),
        ("p-viewer", page_pb2.PAGE_PERMISSION_EDIT): (False, page_pb2.PAGE_ROLE_VIEWER),
        ("p-viewer", page_pb2.PAGE_PERMISSION_VIEW_PRIVATE): (True, page_pb2.PAGE_ROLE_VIEWER),
        ("kc-stranger", page_pb2.PAGE_PERMISSION_VIEW_PRIVATE): (False, page_pb2.PAGE_ROLE_UNSPECIFIED),
    }
    for (subject, permission), answer in expected.items():
        got = builder.stub.CheckPageAccess(
            investor_pb2.CheckPageAccessRequest(page=page.name, subject=subject, permission=permission), metadata=auth
        )
        assert (got.allowed, got.role) == answer, (subject, permission)
        assert got.cache_ttl_seconds == 10
    with pytest.raises(grpc.RpcError) as call:
        builder.stub.CheckPageAccess(investor_pb2.CheckPageAccessRequest(page="companies/x"), metadata=auth)
    assert sorted(rpc_error(call)[2]) == ["page", "permission", "subject"]

"""Programs through the real server: validation, masks, lifecycle, idempotency, listing and batch reads."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from devinsider.common.v1 import page_pb2
from devinsider.program.v1 import program_pb2 as P  # noqa: N812 - short name for many messages
from devinsider.program.v1 import program_pb2_grpc
from devinsider_common.pages.roles import PageRole
from program_service.bootstrap import start

from ..company_double import CompanyDouble
from ..conftest import TokenFactory, bearer, error_of, make_settings, new_program

Stub = program_pb2_grpc.ProgramServiceStub


def _create(stub: Stub, auth: object, **fields: object) -> P.Program:
    return stub.CreateProgram(P.CreateProgramRequest(program=new_program(**fields)), metadata=auth)  # type: ignore[arg-type]


def test_create_returns_a_draft_owned_by_the_caller_and_retries_are_idempotent(stub: Stub, token: TokenFactory) -> None:
    auth = bearer(token("kc-olga"))
    request = P.CreateProgramRequest(
        program=new_program(benefits=["Co-selling"], country_codes=["FR"]), request_id="r1"
    )
    first = stub.CreateProgram(request, metadata=auth)
    again = stub.CreateProgram(request, metadata=auth)
    assert first.name == again.name and first.name.startswith("programs/")
    assert first.state == P.PROGRAM_STATE_DRAFT and first.viewer_role == page_pb2.PAGE_ROLE_OWNER
    assert list(first.benefits) == ["Co-selling"] and list(first.country_codes) == ["FR"]
    members = stub.ListMembers(P.ListMembersRequest(parent=first.name), metadata=auth).members
    assert [(m.subject, m.role) for m in members] == [("kc-olga", page_pb2.PAGE_ROLE_OWNER)]
    assert (
        stub.CreateProgram(P.CreateProgramRequest(program=new_program(), request_id="r2"), metadata=auth).name
        != first.name
    )


def test_a_request_id_is_stripped_and_one_over_128_characters_is_refused(stub: Stub, token: TokenFactory) -> None:
    auth = bearer(token("kc-olga"))
    key = "k" * 128
    first = stub.CreateProgram(P.CreateProgramRequest(program=new_program(), request_id=key), metadata=auth)
    again = stub.CreateProgram(P.CreateProgramRequest(program=new_program(), request_id=f"  {key} "), metadata=auth)
    assert again.name == first.name
    with pytest.raises(grpc.RpcError) as call:  # never cut to 128, which would replay the page above
        stub.CreateProgram(P.CreateProgramRequest(program=new_program(), request_id=key + "x"), metadata=auth)
    assert error_of(call) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", ["request_id"])


def test_bad_input_names_every_bad_field(stub: Stub, token: TokenFactory) -> None:
    auth = bearer(token("kc-olga"))
    bad = P.Program(display_name="", vendor_name="V", program_type=9, website_url="nope", country_codes=["france"])  # type: ignore[arg-type]
    with pytest.raises(grpc.RpcError) as call:
        stub.CreateProgram(P.CreateProgramRequest(program=bad), metadata=auth)
    code, _, fields = error_of(call)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(fields) == {
        "program.display_name",
        "program.program_type",
        "program.website_url",
        "program.country_codes[0]",
    }
    for name, field in (("programs", "name"), ("companies/x", "name"), ("programs/a/b", "name")):
        with pytest.raises(grpc.RpcError) as call:
            stub.GetProgram(P.GetProgramRequest(name=name), metadata=auth)
        assert error_of(call)[0] == grpc.StatusCode.INVALID_ARGUMENT and error_of(call)[2] == [field]


def test_vendor_company_needs_edit_on_that_company(stub: Stub, token: TokenFactory, company: CompanyDouble) -> None:
    auth = bearer(token("kc-olga"))
    with pytest.raises(grpc.RpcError) as call:
        _create(stub, auth, vendor_company="companies/msft")
    assert error_of(call)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "PAGE_PERMISSION_DENIED")
    company.grant("companies/msft", "kc-olga", PageRole.EDITOR)
    assert _create(stub, auth, vendor_company="companies/msft").vendor_company == "companies/msft"
    assert ("CheckPageAccess", frozenset({"service"})) in company.calls  # our own identity, not the user's token


def test_update_with_mask_changes_only_named_fields_and_archived_programs_are_frozen(
    stub: Stub, token: TokenFactory
) -> None:
    auth = bearer(token("kc-olga"))
    program = _create(stub, auth, tagline="old", description="keep")
    changes = P.Program(name=program.name, tagline="new", description="ignored", display_name="")
    updated = stub.UpdateProgram(
        P.UpdateProgramRequest(program=changes, update_mask=field_mask_pb2.FieldMask(paths=["tagline"])), metadata=auth
    )
    assert (updated.tagline, updated.description, updated.display_name) == ("new", "keep", "Azure Partners")
    for paths, field in ((["state"], "update_mask.paths[state]"), (["display_name"], "program.display_name")):
        with pytest.raises(grpc.RpcError) as call:
            stub.UpdateProgram(
                P.UpdateProgramRequest(program=changes, update_mask=field_mask_pb2.FieldMask(paths=paths)),
                metadata=auth,
            )
        assert error_of(call)[0] == grpc.StatusCode.INVALID_ARGUMENT and error_of(call)[2] == [field]
    stub.ArchiveProgram(P.ArchiveProgramRequest(name=program.name), metadata=auth)
    with pytest.raises(grpc.RpcError) as call:
        stub.UpdateProgram(
            P.UpdateProgramRequest(program=changes, update_mask=field_mask_pb2.FieldMask(paths=["tagline"])),
            metadata=auth,
        )
    assert error_of(call)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "PROGRAM_ARCHIVED")


def test_without_a_mask_only_the_fields_sent_change(stub: Stub, token: TokenFactory) -> None:
    auth = bearer(token("kc-olga"))
    program = _create(stub, auth, tagline="old", description="keep", benefits=["Co-selling"])
    sent = P.Program(name=program.name, tagline="new")
    updated = stub.UpdateProgram(P.UpdateProgramRequest(program=sent), metadata=auth)
    assert (updated.tagline, updated.description, list(updated.benefits)) == ("new", "keep", ["Co-selling"])
    with pytest.raises(grpc.RpcError) as call:  # nothing to update: refused, not a silent no-op
        stub.UpdateProgram(P.UpdateProgramRequest(program=P.Program(name=program.name)), metadata=auth)
    assert error_of(call)[0] == grpc.StatusCode.INVALID_ARGUMENT and error_of(call)[2] == ["update_mask"]


def test_publish_and_archive_transitions(stub: Stub, token: TokenFactory) -> None:
    auth = bearer(token("kc-olga"))
    program = _create(stub, auth)
    published = stub.PublishProgram(P.PublishProgramRequest(name=program.name), metadata=auth)
    assert published.state == P.PROGRAM_STATE_PUBLISHED and published.HasField("publish_time")
    with pytest.raises(grpc.RpcError) as call:
        stub.PublishProgram(P.PublishProgramRequest(name=program.name), metadata=auth)
    assert error_of(call)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "PROGRAM_NOT_DRAFT")
    archived = stub.ArchiveProgram(P.ArchiveProgramRequest(name=program.name), metadata=auth)
    assert archived.state == P.PROGRAM_STATE_ARCHIVED and archived.HasField("archive_time")
    for rpc, request in (
        (stub.ArchiveProgram, P.ArchiveProgramRequest(name=program.name)),
        (stub.PublishProgram, P.PublishProgramRequest(name=program.name)),
    ):
        with pytest.raises(grpc.RpcError) as call:
            rpc(request, metadata=auth)  # type: ignore[arg-type]
        assert error_of(call)[0] == grpc.StatusCode.FAILED_PRECONDITION
    assert stub.GetProgram(P.GetProgramRequest(name=program.name)).state == P.PROGRAM_STATE_ARCHIVED  # still public


def test_delete_hides_the_program_everywhere(stub: Stub, token: TokenFactory) -> None:
    auth, service = bearer(token("kc-olga")), bearer(token("service-x", roles=("service",)))
    program = _create(stub, auth)
    stub.DeleteProgram(P.DeleteProgramRequest(name=program.name), metadata=auth)
    with pytest.raises(grpc.RpcError) as call:
        stub.GetProgram(P.GetProgramRequest(name=program.name), metadata=auth)
    assert error_of(call)[:2] == (grpc.StatusCode.NOT_FOUND, "PROGRAM_NOT_FOUND")
    with pytest.raises(grpc.RpcError) as call:
        stub.DeleteProgram(P.DeleteProgramRequest(name=program.name), metadata=auth)
    assert error_of(call)[0] == grpc.StatusCode.NOT_FOUND
    assert list(stub.BatchGetPrograms(P.BatchGetProgramsRequest(names=[program.name]), metadata=service).programs) == []
    check = P.CheckPageAccessRequest(page=program.name, subject="kc-olga", permission=1)  # type: ignore[arg-type]
    assert stub.CheckPageAccess(check, metadata=service).allowed is False


def test_listing_filters_orders_and_pages(stub: Stub, token: TokenFactory) -> None:
    olga, bob = bearer(token("kc-olga")), bearer(token("kc-bob"))
    names = {}
    for title, kind, countries, industries in (
        ("Charlie Referral", P.PROGRAM_TYPE_REFERRAL, ["FR"], ["fintech"]),
        ("alpha OEM", P.PROGRAM_TYPE_OEM, ["DE", "FR"], ["health"]),
        ("Bravo Market", P.PROGRAM_TYPE_MARKETPLACE, ["US"], ["fintech", "retail"]),
    ):
        program = _create(
            stub, olga, display_name=title, program_type=kind, country_codes=countries, industries=industries
        )
        stub.PublishProgram(P.PublishProgramRequest(name=program.name), metadata=olga)
        names[title] = program.name
    draft = _create(stub, olga, display_name="Delta Draft")
    _create(stub, bob, display_name="Bob Draft")

    def titles(**filters: object) -> list[str]:
        auth = filters.pop("auth", ())
        response = stub.ListPrograms(P.ListProgramsRequest(**filters), metadata=auth)  # type: ignore[arg-type]
        return [p.display_name for p in response.programs]

    assert titles() == ["alpha OEM", "Bravo Market", "Charlie Referral"]  # published only, by name
    assert titles(country_codes=["FR"]) == ["alpha OEM", "Charlie Referral"]
    assert titles(industries=["fintech"], program_types=[P.PROGRAM_TYPE_MARKETPLACE]) == ["Bravo Market"]
    assert titles(query="oem") == ["alpha OEM"]
    assert titles(order_by="publish_time desc") == ["Bravo Market", "alpha OEM", "Charlie Referral"]
    drafts = [P.PROGRAM_STATE_DRAFT]
    assert titles(states=drafts) == []  # drafts are never listed publicly...
    assert titles(states=drafts, auth=olga) == ["Delta Draft"]  # ...members see their own
    assert titles(states=drafts, auth=bearer(token("kc-staff", roles=("admin",)))) == ["Bob Draft", "Delta Draft"]
    assert titles(caller_is_member=True, auth=bob) == []
    assert "Delta Draft" in titles(caller_is_member=True, auth=olga, states=drafts)
    assert draft.name not in names.values()

    seen, token_ = [], ""
    while True:
        page = stub.ListPrograms(P.ListProgramsRequest(page_size=2, page_token=token_, order_by="update_time desc"))
        assert page.total_size == 3 and len(page.programs) <= 2
        seen += [p.name for p in page.programs]
        token_ = page.next_page_token
        if not token_:
            break
    assert sorted(seen) == sorted(names.values()) and len(seen) == 3
    first = stub.ListPrograms(P.ListProgramsRequest(page_size=1))
    for bad in (
        P.ListProgramsRequest(page_token="garbage"),
        P.ListProgramsRequest(page_token=first.next_page_token, query="other filters"),
        P.ListProgramsRequest(page_size=-1),
        P.ListProgramsRequest(order_by="vendor_name"),
        P.ListProgramsRequest(program_types=[42]),  # type: ignore[list-item]
    ):
        with pytest.raises(grpc.RpcError) as call:
            stub.ListPrograms(bad)
        assert error_of(call)[0] == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as call:
        stub.ListPrograms(P.ListProgramsRequest(caller_is_member=True))
    assert error_of(call)[0] == grpc.StatusCode.UNAUTHENTICATED


def test_page_size_is_capped_by_the_server(
    tmp_path: Path, database: tuple[str, str], company: CompanyDouble, token: TokenFactory
) -> None:
    service = start(make_settings(tmp_path, *database, company.target, max_page_size=3), run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = program_pb2_grpc.ProgramServiceStub(channel)
            auth = bearer(token("kc-olga"))
            for i in range(4):
                _create(stub, auth, display_name=f"P{i}")
            request = P.ListProgramsRequest(page_size=10_000, states=[P.PROGRAM_STATE_DRAFT])
            first = stub.ListPrograms(request, metadata=auth)
            assert len(first.programs) == 3 and first.next_page_token
            request.page_token = first.next_page_token
            assert [p.display_name for p in stub.ListPrograms(request, metadata=auth).programs] == ["P3"]
    finally:
        service.stop(grace=0)


def test_batch_get_keeps_request_order_and_skips_unknown_names(stub: Stub, token: TokenFactory) -> None:
    auth, service = bearer(token("kc-olga")), bearer(token("service-x", roles=("service",)))
    a, b = _create(stub, auth, display_name="A"), _create(stub, auth, display_name="B")
    response = stub.BatchGetPrograms(
        P.BatchGetProgramsRequest(names=[b.name, "programs/missing", a.name]), metadata=service
    )
    assert [p.display_name for p in response.programs] == ["B", "A"]
    with pytest.raises(grpc.RpcError) as call:
        stub.BatchGetPrograms(P.BatchGetProgramsRequest(names=[a.name] * 201), metadata=service)
    assert error_of(call)[2] == ["names"]


def test_check_page_access_answers_carry_the_configured_cache_time(
    tmp_path: Path, database: tuple[str, str], company: CompanyDouble, token: TokenFactory
) -> None:
    settings = make_settings(tmp_path, *database, company.target, page_access_cache_ttl_seconds=3)
    service = start(settings, run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = program_pb2_grpc.ProgramServiceStub(channel)
            auth = bearer(token("kc-olga"))
            program = _create(stub, auth)
            request = P.CheckPageAccessRequest(
                page=program.name, subject="kc-olga", permission=page_pb2.PAGE_PERMISSION_EDIT
            )
            answer = stub.CheckPageAccess(request, metadata=bearer(token("service-x", roles=("service",))))
            assert answer.allowed and answer.cache_ttl_seconds == 3
    finally:
        service.stop(grace=0)

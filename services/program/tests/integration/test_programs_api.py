"""The program RPCs through the real server on PostgreSQL: each reaches its use case with the request's
fields (names, masks, enums, idempotency keys, filters, page tokens) and maps a refusal to its
status with details. The rules themselves are `tests/unit/test_programs.py`."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.protobuf import field_mask_pb2

from devinsider.common.v1 import page_pb2
from devinsider.program.v1 import program_pb2 as P  # noqa: N812 - short name for many messages
from devinsider.program.v1 import program_pb2_grpc
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.testing.tokens import CallerFactory
from program_service.bootstrap import EXPIRY_JOB, ProgramService, start

from ..company_double import CompanyDouble
from ..conftest import make_settings, new_program

Stub = program_pb2_grpc.ProgramServiceStub
INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _invalid(*fields: str) -> Failure:
    return Failure(INVALID, "INVALID_ARGUMENT", list(fields))


def test_create_get_update_publish_archive_delete(stub: Stub, callers: CallerFactory) -> None:
    olga = callers("kc-olga", ("program",)).metadata
    key = "k" * 128
    request = P.CreateProgramRequest(program=new_program(benefits=["Co-selling"], country_codes=["FR"]), request_id=key)
    first = stub.CreateProgram(request, metadata=olga)
    assert first.state == P.PROGRAM_STATE_DRAFT and first.viewer_role == page_pb2.PAGE_ROLE_OWNER
    assert list(first.benefits) == ["Co-selling"] and first.HasField("create_time")
    request.request_id = f"  {key} "  # stripped: the same request
    assert stub.CreateProgram(request, metadata=olga).name == first.name
    request.request_id = key + "x"  # never cut to 128, which would replay the program above
    assert failure(lambda: stub.CreateProgram(request, metadata=olga)) == _invalid("request_id")
    bad = P.Program(display_name="", vendor_name="V", program_type=9, website_url="nope", country_codes=["france"])  # type: ignore[arg-type]
    refused = failure(lambda: stub.CreateProgram(P.CreateProgramRequest(program=bad), metadata=olga))
    assert refused.code == INVALID and set(refused.fields) == {
        "program.display_name",
        "program.program_type",  # an unknown type is reported beside the other bad fields
        "program.website_url",
        "program.country_codes[0]",
    }

    for name in ("programs", "companies/x", "programs/a/b"):
        assert failure(lambda: stub.GetProgram(P.GetProgramRequest(name=name))) == _invalid("name")  # noqa: B023
    assert failure(lambda: stub.GetProgram(P.GetProgramRequest(name=first.name))) == Failure(
        grpc.StatusCode.NOT_FOUND,
        "PROGRAM_NOT_FOUND",  # a draft, for an anonymous caller
    )
    assert stub.GetProgram(P.GetProgramRequest(name=first.name), metadata=olga).viewer_role == page_pb2.PAGE_ROLE_OWNER

    def update(program: P.Program, *paths: str) -> P.Program:
        mask = field_mask_pb2.FieldMask(paths=paths) if paths else None
        return stub.UpdateProgram(P.UpdateProgramRequest(program=program, update_mask=mask), metadata=olga)

    changes = P.Program(name=first.name, tagline="new", description="ignored", display_name="")
    updated = update(changes, "tagline")
    assert (updated.tagline, updated.description, updated.display_name) == ("new", "", "Azure Partners")
    assert failure(lambda: update(changes, "state")) == _invalid("update_mask.paths[state]")
    assert failure(lambda: update(changes, "display_name")) == _invalid("program.display_name")
    implied = update(P.Program(name=first.name, description="sent"))  # no mask: the fields sent
    assert (implied.tagline, implied.description) == ("new", "sent")
    assert failure(lambda: update(P.Program(name=first.name))) == _invalid("update_mask")

    published = stub.PublishProgram(P.PublishProgramRequest(name=first.name), metadata=olga)
    assert published.state == P.PROGRAM_STATE_PUBLISHED and published.HasField("publish_time")
    assert failure(lambda: stub.PublishProgram(P.PublishProgramRequest(name=first.name), metadata=olga)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "PROGRAM_NOT_DRAFT"
    )
    archived = stub.ArchiveProgram(P.ArchiveProgramRequest(name=first.name), metadata=olga)
    assert archived.state == P.PROGRAM_STATE_ARCHIVED and archived.HasField("archive_time")
    assert stub.GetProgram(P.GetProgramRequest(name=first.name)).state == P.PROGRAM_STATE_ARCHIVED  # public

    service = callers("service-x", ("service",)).metadata
    other = stub.CreateProgram(P.CreateProgramRequest(program=new_program(display_name="B")), metadata=olga)
    batch = P.BatchGetProgramsRequest(names=[other.name, "programs/missing", first.name])
    assert [p.display_name for p in stub.BatchGetPrograms(batch, metadata=service).programs] == ["B", "Azure Partners"]
    batch.names.append("programs")
    assert failure(lambda: stub.BatchGetPrograms(batch, metadata=service)) == _invalid("names[3]")
    stub.DeleteProgram(P.DeleteProgramRequest(name=first.name), metadata=olga)
    assert failure(lambda: stub.GetProgram(P.GetProgramRequest(name=first.name), metadata=olga)).code == (
        grpc.StatusCode.NOT_FOUND
    )
    assert failure(lambda: stub.DeleteProgram(P.DeleteProgramRequest(name=first.name), metadata=olga)).code == (
        grpc.StatusCode.NOT_FOUND
    )


def test_check_page_access_answers_with_the_configured_cache_time(stub: Stub, callers: CallerFactory) -> None:
    olga, service = callers("kc-olga", ("program",)).metadata, callers("service-x", ("service",)).metadata
    program = stub.CreateProgram(P.CreateProgramRequest(program=new_program()), metadata=olga)
    check = P.CheckPageAccessRequest(page=program.name, subject="kc-olga", permission=page_pb2.PAGE_PERMISSION_EDIT)
    answer = stub.CheckPageAccess(check, metadata=service)
    assert (answer.allowed, answer.role, answer.cache_ttl_seconds) == (True, page_pb2.PAGE_ROLE_OWNER, 3)
    bad = P.CheckPageAccessRequest(page="x", permission=9)  # type: ignore[arg-type]
    refused = failure(lambda: stub.CheckPageAccess(bad, metadata=service))
    assert refused.code == INVALID and sorted(refused.fields) == ["page", "permission", "subject"]


def test_list_programs_takes_its_filters_and_page_tokens(stub: Stub, callers: CallerFactory) -> None:
    olga = callers("kc-olga", ("program",)).metadata
    names = {}
    for title, kind, countries in (
        ("Charlie", P.PROGRAM_TYPE_REFERRAL, ["FR"]),
        ("alpha", P.PROGRAM_TYPE_OEM, ["DE", "FR"]),
        ("Bravo", P.PROGRAM_TYPE_MARKETPLACE, ["US"]),
    ):
        program = stub.CreateProgram(
            P.CreateProgramRequest(program=new_program(display_name=title, program_type=kind, country_codes=countries)),
            metadata=olga,
        )
        stub.PublishProgram(P.PublishProgramRequest(name=program.name), metadata=olga)
        names[title] = program.name
    stub.CreateProgram(P.CreateProgramRequest(program=new_program(display_name="Draft")), metadata=olga)

    def titles(request: P.ListProgramsRequest, metadata: object = ()) -> list[str]:
        return [p.display_name for p in stub.ListPrograms(request, metadata=metadata).programs]  # type: ignore[arg-type]

    assert titles(P.ListProgramsRequest(country_codes=["FR"], program_types=[P.PROGRAM_TYPE_OEM])) == ["alpha"]
    assert titles(P.ListProgramsRequest(query=" bra ", order_by="publish_time desc")) == ["Bravo"]
    drafts = P.ListProgramsRequest(states=[P.PROGRAM_STATE_DRAFT], caller_is_member=True)
    assert titles(drafts, olga) == ["Draft"]
    assert failure(lambda: titles(drafts)) == Failure(grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")

    seen, token = [], ""
    while True:
        window = stub.ListPrograms(P.ListProgramsRequest(page_size=2, page_token=token))
        assert window.total_size == 3 and len(window.programs) <= 2
        seen += [p.name for p in window.programs]
        token = window.next_page_token
        if not token:
            break
    assert seen == [names["alpha"], names["Bravo"], names["Charlie"]]
    first = stub.ListPrograms(P.ListProgramsRequest(page_size=1))
    for bad, field in (
        (P.ListProgramsRequest(page_token="garbage"), "page_token"),
        (P.ListProgramsRequest(page_token=first.next_page_token, query="other filters"), "page_token"),
        (P.ListProgramsRequest(page_size=-1), "page_size"),
        (P.ListProgramsRequest(order_by="vendor_name"), "order_by"),
        (P.ListProgramsRequest(program_types=[42]), "program_types[0]"),  # type: ignore[list-item]
        (P.ListProgramsRequest(states=[42]), "states[0]"),  # type: ignore[list-item]
        (P.ListProgramsRequest(country_codes=["fr"]), "country_codes[0]"),
        (P.ListProgramsRequest(query="q" * 201), "query"),
        (P.ListProgramsRequest(vendor_company="acme"), "vendor_company"),
    ):
        assert failure(lambda: stub.ListPrograms(bad)) == _invalid(field), field  # noqa: B023
    with_token = P.ListProgramsRequest(page_size=1, page_token=first.next_page_token)
    assert titles(with_token) == ["Bravo"]
    assert failure(lambda: titles(with_token, olga)) == _invalid("page_token")  # issued to another caller


def test_the_service_runs_on_sqlite_caps_page_sizes_and_schedules_the_expiry_job(
    tmp_path: Path, company: CompanyDouble, callers: CallerFactory
) -> None:
    """The embedded default (SQLite): migrated, served, and its settings taken."""
    url = f"sqlite+pysqlite:///{tmp_path / 'program.sqlite3'}"
    settings = make_settings(tmp_path, url, "program", company.target, max_page_size=3)
    service: ProgramService = start(settings, run_jobs=False)
    try:
        assert [(j.name, j.interval_seconds) for j in service.jobs] == [
            (EXPIRY_JOB, settings.invitation_expiry_interval_seconds)
        ]
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = program_pb2_grpc.ProgramServiceStub(channel)
            olga = callers("kc-olga", ("program",)).metadata
            for i in range(4):
                stub.CreateProgram(P.CreateProgramRequest(program=new_program(display_name=f"P{i}")), metadata=olga)
            request = P.ListProgramsRequest(page_size=10_000, states=[P.PROGRAM_STATE_DRAFT])
            first = stub.ListPrograms(request, metadata=olga)
            assert len(first.programs) == 3 and first.next_page_token
            request.page_token = first.next_page_token
            assert [p.display_name for p in stub.ListPrograms(request, metadata=olga).programs] == ["P3"]
    finally:
        service.stop(grace=0)

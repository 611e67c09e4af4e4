"""Claims of pre-listed pages, logos as HttpBody, and contact details unlocked through billing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path

import grpc
import jwt
import pytest
from google.api import httpbody_pb2

from company_service.bootstrap import CompanyService, start
from company_service.settings import CompanySettings
from devinsider.billing.v1 import billing_pb2
from devinsider.company.v1 import company_pb2, company_pb2_grpc
from devinsider_common.auth.principal import ROLE_SERVICE
from devinsider_common.grpc.status import error_info, field_violations, from_rpc_error

from ..conftest import Caller, FakeClock
from ..helpers import mails, outbox

Stub = company_pb2_grpc.CompanyServiceStub
MakeCaller = Callable[..., Caller]
c = company_pb2
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'


def _fails(call: Callable[[], object]) -> tuple[grpc.StatusCode, str, list[str]]:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    status = from_rpc_error(raised.value)
    assert status is not None
    info = error_info(status)
    return raised.value.code(), info.reason if info else "", [v.field for v in field_violations(status)]


def _pre_list(stub: Stub, caller: MakeCaller, website: str = "https://www.acme.io") -> str:
    staff = caller("kc-staff", roles=("admin",))
    request = c.CreateCompanyRequest(company=c.Company(display_name="Acme", website_url=website), pre_listed=True)
    created = stub.CreateCompany(request, metadata=staff.metadata)
    assert created.state == c.COMPANY_STATE_PRE_LISTED and created.viewer_role == 0
    return created.name


def test_a_verified_email_on_the_website_domain_claims_at_once(
    stub: Stub, caller: MakeCaller, service: CompanyService
) -> None:
    page = _pre_list(stub, caller)
    alice = caller("kc-alice", email="alice@acme.io")
    claimed = stub.ClaimCompany(c.ClaimCompanyRequest(name=page, message="I am the CEO"), metadata=alice.metadata)
    assert claimed.state == c.COMPANY_STATE_ACTIVE and claimed.viewer_role == 1
    assert [m.template for m in mails(service, "company_claim_approved")] == ["company_claim_approved"]
    again = _fails(lambda: stub.ClaimCompany(c.ClaimCompanyRequest(name=page), metadata=caller("kc-bob").metadata))
    assert again[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "COMPANY_NOT_CLAIMABLE")


def test_other_claims_wait_for_staff_who_approve_or_reject(
    stub: Stub, caller: MakeCaller, service: CompanyService
) -> None:
    page = _pre_list(stub, caller)
    staff = caller("kc-staff", roles=("admin",))
    unverified = caller("kc-bob", email="bob@acme.io", email_verified=False)
    pending = stub.ClaimCompany(
        c.ClaimCompanyRequest(name=page, evidence_url="https://linkedin.com/in/bob"), metadata=unverified.metadata
    )
    assert pending.state == c.COMPANY_STATE_CLAIM_PENDING and pending.viewer_role == 0
    requested = [r for r in outbox(service) if r.event_type == "devinsider.company.v1.CompanyClaimRequested"]
    assert [r.external_id for r in requested] == [page]
    assert _fails(lambda: stub.RejectCompanyClaim(c.RejectCompanyClaimRequest(name=page), metadata=staff.metadata))[
        2
    ] == ["reason"]
    rejected = stub.RejectCompanyClaim(
        c.RejectCompanyClaimRequest(name=page, reason="no proof"), metadata=staff.metadata
    )
    assert rejected.state == c.COMPANY_STATE_PRE_LISTED and rejected.claimant == ""
    assert mails(service, "company_claim_rejected")[0].variables["reason"] == "no proof"
    approve = c.ApproveCompanyClaimRequest(name=page)
    assert _fails(lambda: stub.ApproveCompanyClaim(approve, metadata=staff.metadata))[:2] == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NO_PENDING_CLAIM",
    )
    gmail = caller("kc-carol", email="carol@gmail.com")
    stub.ClaimCompany(c.ClaimCompanyRequest(name=page), metadata=gmail.metadata)
    approved = stub.ApproveCompanyClaim(approve, metadata=staff.metadata)
    assert approved.state == c.COMPANY_STATE_ACTIVE
    members = stub.ListMembers(c.ListMembersRequest(parent=page), metadata=gmail.metadata)
    assert [(m.subject, m.role) for m in members.members] == [("kc-carol", 1)]
    # Carol now runs a page: she cannot found a second one.
    second = c.CreateCompanyRequest(company=c.Company(display_name="Second"))
    assert _fails(lambda: stub.CreateCompany(second, metadata=gmail.metadata))[1] == "ONE_COMPANY_PER_USER"
    bad = c.ClaimCompanyRequest(name=_pre_list(stub, caller), evidence_url="not a url", message="x" * 2001)
    assert set(_fails(lambda: stub.ClaimCompany(bad, metadata=caller("kc-dan").metadata))[2]) == {
        "evidence_url",
        "message",
    }


def test_logo_upload_checks_type_and_size_and_serves_it_back(
    stub: Stub, caller: MakeCaller, service: CompanyService, settings: CompanySettings
) -> None:
    alice = caller("kc-alice")
    page = stub.CreateCompany(
        c.CreateCompanyRequest(company=c.Company(display_name="Acme")), metadata=alice.metadata
    ).name
    logo_name = f"{page}/logo"
    assert _fails(lambda: stub.GetCompanyLogo(c.GetCompanyLogoRequest(name=logo_name)))[:2] == (
        grpc.StatusCode.NOT_FOUND,
        "LOGO_NOT_FOUND",
    )

    def upload(content_type: str, data: bytes) -> c.Company:
        body = httpbody_pb2.HttpBody(content_type=content_type, data=data)
        return stub.UploadCompanyLogo(c.UploadCompanyLogoRequest(name=page, body=body), metadata=alice.metadata)

    bad_cases = [
        ("image/gif", b"GIF89a" + b"\x00" * 10, ["body.content_type", "body.data"]),
        ("image/png", JPEG, ["body.content_type"]),
        ("image/png", b"", ["body.data"]),
        ("image/png", PNG + b"\x00" * settings.logo_max_bytes, ["body.data"]),
        ("image/svg+xml", SVG.replace(b"></svg>", b"><script>alert(1)</script></svg>"), ["body.data"]),
    ]
    for content_type, data, fields in bad_cases:
        assert _fails(lambda ct=content_type, d=data: upload(ct, d)) == (  # type: ignore[misc]
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_ARGUMENT",
            fields,
        )
    first = upload("image/png", PNG)
    assert first.logo_url == f"/v1/{page}/logo"
    served = stub.GetCompanyLogo(c.GetCompanyLogoRequest(name=logo_name))
    assert (served.body.content_type, served.body.data) == ("image/png", PNG)
    upload("image/jpeg; charset=binary", JPEG)
    served = stub.GetCompanyLogo(c.GetCompanyLogoRequest(name=logo_name))
    assert (served.body.content_type, served.body.data) == ("image/jpeg", JPEG)
    upload("image/svg+xml", SVG)
    # Replaced files are removed: one file left for the page.
    files = [p for p in Path(settings.upload_dir).rglob("*") if p.is_file()]
    assert [p.suffix for p in files] == [".svg"]
    assert (
        _fails(lambda: stub.GetCompanyLogo(c.GetCompanyLogoRequest(name=page)))[0] == grpc.StatusCode.INVALID_ARGUMENT
    )


class FakeBilling:
    """A minimal BillingService double implementing only HasUnlocked: the (target, subject) pairs
    unlocked, and every call seen with its authorization header."""

    def __init__(self) -> None:
        self.unlocked: set[tuple[str, str]] = set()
        self.calls: list[tuple[str, str, str]] = []

    def HasUnlocked(  # noqa: N802 - the RPC's name
        self, request: billing_pb2.HasUnlockedRequest, context: grpc.ServicerContext
    ) -> billing_pb2.HasUnlockedResponse:
        auth = dict(context.invocation_metadata()).get("authorization", "")
        self.calls.append((request.target, request.subject, str(auth)))
        unlocked = (request.target, request.subject) in self.unlocked
        return billing_pb2.HasUnlockedResponse(
            unlocked=unlocked, unlockers=["investors/i1"] if unlocked else [], cache_ttl_seconds=60
        )


@pytest.fixture
def billing() -> Iterator[tuple[FakeBilling, int]]:
    fake = FakeBilling()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(
        fake.HasUnlocked,
        request_deserializer=billing_pb2.HasUnlockedRequest.FromString,
        response_serializer=billing_pb2.HasUnlockedResponse.SerializeToString,
    )
    service_name = billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service_name, {"HasUnlocked": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, port
    server.stop(0)


def test_investors_whose_organisation_unlocked_see_contact_details(
    billing: tuple[FakeBilling, int], tmp_path: Path, settings: CompanySettings, caller: MakeCaller, clock: FakeClock
) -> None:
    fake, port = billing
    configured = settings.model_copy(update={"billing_target": f"127.0.0.1:{port}", "unlock_cache_ttl_seconds": 0.0})
    service = start(configured, clock=clock, run_jobs=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = company_pb2_grpc.CompanyServiceStub(channel)
            alice = caller("kc-alice")
            company = c.Company(display_name="Acme", contact=c.CompanyContact(email="hq@acme.io"))
            page = stub.CreateCompany(c.CreateCompanyRequest(company=company), metadata=alice.metadata).name
            investor, other = caller("kc-inv", roles=("investor",)), caller("kc-inv2", roles=("investor",))
            fake.unlocked.add((page, "kc-inv"))
            seen = stub.GetCompany(c.GetCompanyRequest(name=page), metadata=investor.metadata)
            assert seen.viewer_has_full_access and seen.contact.email == "hq@acme.io"
            hidden = stub.GetCompany(c.GetCompanyRequest(name=page), metadata=other.metadata)
            assert not hidden.viewer_has_full_access and not hidden.HasField("contact")
            # Members and anonymous callers are never asked about.
            stub.GetCompany(c.GetCompanyRequest(name=page), metadata=alice.metadata)
            stub.GetCompany(c.GetCompanyRequest(name=page))
            assert [(t, s) for t, s, _ in fake.calls] == [(page, "kc-inv"), (page, "kc-inv2")]
            # The call carries the company service's own token (service role), not the investor's.
            claims = jwt.decode(fake.calls[0][2].removeprefix("Bearer "), options={"verify_signature": False})
            assert claims["sub"] == "service-company" and ROLE_SERVICE in claims["realm_access"]["roles"]
    finally:
        service.stop(grace=0)

"""Claims of pre-listed pages and logos, on the in-memory unit of work."""

from __future__ import annotations

import grpc
import pytest

from company_service.domain.content import CompanyContent
from company_service.domain.model import Claim, Company, CompanyState
from devinsider_common.pages.roles import PageRole
from devinsider_common.testing.failures import Failure, failure
from devinsider_common.unit_of_work import ConstraintViolation

from ..fakes import STAFF, World, person, racing, unit_settings, world

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'


def _pre_listed(w: World, website: str = "https://www.acme.io") -> str:
    return w.seed({}, CompanyState.PRE_LISTED, display_name="Acme", website_url=website)


# Claims


def test_a_verified_email_on_the_website_domain_claims_at_once() -> None:
    w = world()
    page = _pre_listed(w)
    alice = person("kc-alice", email="alice@acme.io")
    view = w.app.claims.claim(alice, page, " I am the CEO ", "")
    assert (view.company.state, view.company.founder, view.role, view.full) == (
        CompanyState.ACTIVE,
        "kc-alice",
        PageRole.OWNER,
        True,
    )
    assert view.company == w.stored(page) and view.company.claim == Claim(
        "kc-alice", "", "Ada Lovelace", "alice@acme.io", "I am the CEO", ""
    )
    assert [e.kind for e in w.events()] == ["MemberAdded", "CompanyUpdated", "ClaimDecided"]
    assert w.events("ClaimDecided")[0].details == {"email": "alice@acme.io", "approved": True, "reason": ""}
    assert failure(lambda: w.app.claims.claim(person("kc-bob"), page, "", "")) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "COMPANY_NOT_CLAIMABLE"
    )


def test_other_claims_wait_for_staff_who_approve_or_reject() -> None:
    w = world()
    page = _pre_listed(w)
    bob = person("kc-bob", email="bob@acme.io", verified=False)
    pending = w.app.claims.claim(bob, page, "", "https://linkedin.com/in/bob")
    assert (pending.company.state, pending.role, pending.full) == (CompanyState.CLAIM_PENDING, None, False)
    assert [e.kind for e in w.events()] == ["CompanyClaimRequested"]
    assert failure(lambda: w.app.claims.reject(page, " ")).fields == ["reason"]
    rejected = w.app.claims.reject(page, " no proof ")
    assert (rejected.state, rejected.claim, rejected.founder) == (CompanyState.PRE_LISTED, None, "")
    assert rejected == w.stored(page)
    decided = w.events("ClaimDecided")[-1].details
    assert (decided["approved"], decided["reason"], decided["email"]) == (False, "no proof", "bob@acme.io")
    assert failure(lambda: w.app.claims.approve(page)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "NO_PENDING_CLAIM"
    )
    carol = person("kc-carol", email="carol@gmail.com")
    w.app.claims.claim(carol, page, "", "")
    approved = w.app.claims.approve(page)
    assert approved.state is CompanyState.ACTIVE and approved == w.stored(page)
    members, _ = w.app.members.list(carol, page, 0, "", None)
    assert [(m.subject, m.role) for m in members] == [("kc-carol", PageRole.OWNER)]
    # Carol now runs a page: she cannot found a second one, nor claim another.
    assert failure(lambda: w.app.companies.create(carol, w.stored(page).content, False, "")).reason == (
        "ONE_COMPANY_PER_USER"
    )
    assert failure(lambda: w.app.claims.claim(carol, _pre_listed(w), "", "")).reason == "ONE_COMPANY_PER_USER"


def test_a_claimant_who_is_already_a_member_keeps_their_role() -> None:
    w = world()
    page = w.seed({"kc-alice": PageRole.EDITOR}, CompanyState.PRE_LISTED, website_url="https://acme.io")
    view = w.app.claims.claim(person("kc-alice", email="alice@acme.io"), page, "", "")
    assert (view.company.state, view.role) == (CompanyState.ACTIVE, PageRole.EDITOR)
    assert "MemberAdded" not in [e.kind for e in w.events()]


def test_claims_are_validated_and_need_a_live_page() -> None:
    w = world()
    page = _pre_listed(w)
    bad = failure(lambda: w.app.claims.claim(person("kc-dan"), page, "x" * 2001, "not a url"))
    assert (bad.code, set(bad.fields)) == (grpc.StatusCode.INVALID_ARGUMENT, {"evidence_url", "message"})
    assert failure(lambda: w.app.claims.claim(person("kc-dan"), "ghost", "", "")).reason == "COMPANY_NOT_FOUND"
    assert failure(lambda: w.app.claims.approve("ghost")).reason == "COMPANY_NOT_FOUND"


def test_a_claimant_who_founded_a_page_meanwhile_loses_the_claim() -> None:
    """The claimant's first page commits between the claim's check and its write: the one live page
    per founder key refuses the claim, and nothing of it is kept."""
    mine = Company("mine", CompanyContent(display_name="Mine"), founder="kc-alice", creator="kc-alice")
    w = world(uow=racing(mine))
    page = _pre_listed(w)
    assert failure(lambda: w.app.claims.claim(person("kc-alice", email="a@acme.io"), page, "", "")) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "ONE_COMPANY_PER_USER"
    )
    assert w.stored(page).state is CompanyState.PRE_LISTED and w.events() == []
    assert w.stored("mine").founder == "kc-alice"


# Logos


def test_logo_uploads_are_checked_by_type_and_size() -> None:
    w = world(unit_settings(logo_max_bytes=4096))
    alice = person("kc-alice")
    page = w.app.companies.create(alice, w.stored(_pre_listed(w)).content, False, "").company.id
    assert failure(lambda: w.app.logos.get(page)) == Failure(grpc.StatusCode.NOT_FOUND, "LOGO_NOT_FOUND")
    bad_cases = [
        ("image/gif", b"GIF89a" + b"\x00" * 10, ["body.content_type", "body.data"]),
        ("image/png", JPEG, ["body.content_type"]),
        ("image/png", b"", ["body.data"]),
        ("image/png", PNG + b"\x00" * 4096, ["body.data"]),
        ("image/svg+xml", SVG.replace(b"></svg>", b"><script>alert(1)</script></svg>"), ["body.data"]),
    ]
    for content_type, data, fields in bad_cases:
        found = failure(lambda ct=content_type, d=data: w.app.logos.upload(alice, page, ct, d))  # type: ignore[misc]
        assert (found.code, found.fields) == (grpc.StatusCode.INVALID_ARGUMENT, fields), content_type
    assert w.storage.files == {}
    first = w.app.logos.upload(alice, page, "image/png", PNG)
    assert (first.full, first.role) == (True, PageRole.OWNER) and first.company == w.stored(page)
    assert first.company.logo is not None and first.company.logo.key.endswith(".png")
    assert w.app.logos.get(page) == ("image/png", PNG)
    w.app.logos.upload(alice, page, "image/jpeg; charset=binary", JPEG)
    assert w.app.logos.get(page) == ("image/jpeg", JPEG)
    last = w.app.logos.upload(STAFF, page, "image/svg+xml", SVG)
    assert last.role is None
    # Replaced files are removed: one file left for the page.
    assert [key.rsplit(".", 1)[1] for key in w.storage.files] == ["svg"]
    assert [e.details["changed"] for e in w.events("CompanyUpdated")] == [["logo_url"]] * 3


def test_a_logo_whose_page_was_not_saved_leaves_no_file_and_a_lost_file_is_not_found() -> None:
    w = world()
    alice = person("kc-alice")
    page = w.seed({"kc-alice": PageRole.OWNER})
    w.store.fail_next_commit = ConstraintViolation("refused")
    with pytest.raises(ConstraintViolation):
        w.app.logos.upload(alice, page, "image/png", PNG)
    assert w.storage.files == {} and w.stored(page).logo is None
    w.app.logos.upload(alice, page, "image/png", PNG)
    w.storage.files.clear()
    assert failure(lambda: w.app.logos.get(page)).reason == "LOGO_NOT_FOUND"
    assert failure(lambda: w.app.logos.upload(person("kc-bob"), page, "image/png", PNG)).code == (
        grpc.StatusCode.PERMISSION_DENIED
    )


def test_an_approval_that_meets_another_live_page_of_the_claimant_is_refused() -> None:
    """Two live pages of one founder cannot both be stored: the approval reports it as the rule."""
    w = world()
    page = w.seed({}, CompanyState.CLAIM_PENDING, claim=Claim("kc-carol", email="carol@example.com"))
    other = Company("other", CompanyContent(display_name="Other"), founder="kc-carol")
    w.store.tables["companies"]["other"] = other  # as if written behind the unique key's back
    assert failure(lambda: w.app.claims.approve(page)) == Failure(
        grpc.StatusCode.FAILED_PRECONDITION, "ONE_COMPANY_PER_USER"
    )
    assert w.stored(page).state is CompanyState.CLAIM_PENDING and w.events() == []

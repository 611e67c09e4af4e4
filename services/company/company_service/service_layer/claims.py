"""Use cases on claims of pre-listed pages: claim (approved at once on a matching verified e-mail
domain), approve or reject (platform staff)."""

from __future__ import annotations

from dataclasses import replace

from company_service.domain.claims import approve_claim, email_matches_website, reject_claim, request_claim
from company_service.domain.model import Claim, Company, CompanyView
from company_service.service_layer.companies import full_access, live
from company_service.service_layer.ports import Clock, CompanyUnitOfWork, UnlockChecker, UowFactory
from devinsider_common import errors, validation
from devinsider_common.auth.principal import Principal
from devinsider_common.errors import Violations
from devinsider_common.pages.membership import PageMembers
from devinsider_common.pages.model import Member, PageForViewer
from devinsider_common.pages.roles import PageRole
from devinsider_common.unit_of_work import DuplicateRecord


def _one_company() -> errors.FailedPrecondition:
    return errors.FailedPrecondition("you already run a company page", reason="ONE_COMPANY_PER_USER")


class ClaimUseCases:
    def __init__(self, uow: UowFactory, clock: Clock, members: PageMembers, unlocks: UnlockChecker) -> None:
        self._uow = uow
        self._clock = clock
        self._members = members
        self._unlocks = unlocks

    def claim(self, principal: Principal, company_id: str, message: str, evidence_url: str) -> CompanyView:
        """The page as the claimant now sees it: its owner when the claim was approved at once."""
        checks = Violations()
        validation.text(checks, "message", message, max_len=2000)
        validation.https_url(checks, "evidence_url", evidence_url)
        checks.raise_if_any("invalid claim")
        who = self._members.new_member(principal, company_id, PageRole.OWNER)
        claim = Claim(principal.subject, who.user, who.display_name, who.email, message.strip(), evidence_url)
        try:
            with self._uow() as uow:
                company = live(uow.companies.get(company_id, lock=True), company_id)
                if uow.companies.live_founded_by(principal.subject) is not None:
                    raise _one_company()
                auto = email_matches_website(principal.email, principal.email_verified, company.content.website_url)
                seen = uow.companies.get_for_viewer(company_id, principal.subject) or PageForViewer(company)
                claimed = uow.companies.save(request_claim(company, claim, auto, self._clock()))
                if auto:
                    self._make_owner(uow, claimed, claim)
                else:
                    uow.events.claim_requested(claimed, claim)
                uow.commit()
        except DuplicateRecord as error:  # the claimant founded another page meanwhile
            raise _one_company() from error
        role = seen.role if seen.role is not None else (PageRole.OWNER if auto else None)
        seen = replace(seen, page=claimed, role=role)
        return CompanyView(claimed, full_access(principal, seen, self._unlocks), role)

    def approve(self, company_id: str) -> Company:
        try:
            with self._uow() as uow:
                company = live(uow.companies.get(company_id, lock=True), company_id)
                approved = uow.companies.save(approve_claim(company, self._clock()))
                assert approved.claim is not None
                self._make_owner(uow, approved, approved.claim)
                uow.commit()
        except DuplicateRecord as error:  # the claimant founded another page meanwhile
            raise _one_company() from error
        return approved

    def reject(self, company_id: str, reason: str) -> Company:
        checks = Violations()
        validation.text(checks, "reason", reason, max_len=2000, required=True)
        checks.raise_if_any("invalid rejection")
        with self._uow() as uow:
            company = live(uow.companies.get(company_id, lock=True), company_id)
            claim = company.claim
            rejected = uow.companies.save(reject_claim(company, self._clock()))
            assert claim is not None
            uow.events.company_updated(rejected, ["claimant", "state"])
            uow.events.claim_decided(rejected, claim, approved=False, reason=reason.strip())
            uow.commit()
        return rejected

    def _make_owner(self, uow: CompanyUnitOfWork, company: Company, claim: Claim) -> None:
        now = company.updated_at
        owner = Member(company.id, claim.subject, PageRole.OWNER, claim.user, claim.display_name, claim.email, now, now)
        if uow.members.get(company.id, claim.subject) is None:
            uow.members.add(owner)
            uow.events.member_added(owner, None)
        uow.events.company_updated(company, ["claimant", "state"])
        uow.events.claim_decided(company, claim, approved=True)

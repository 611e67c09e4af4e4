"""Claims of pre-listed pages: pre_listed -> claim_pending -> active (or back to pre_listed). No I/O.

A claim is approved at once when the claimant's e-mail is verified and its domain is the company
website's domain (or a subdomain of it); otherwise platform staff decide.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import urlparse

from company_service.domain.model import Claim, Company, CompanyState
from devinsider_common import errors


def website_domain(url: str) -> str:
    """`acme.io` for `https://www.acme.io/about`; empty when there is no usable host."""
    host = (urlparse(url).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.")


def email_matches_website(email: str, email_verified: bool, website_url: str) -> bool:
    """Whether a claimant's e-mail proves they work for the company of `website_url`."""
    domain = email.rpartition("@")[2].strip().lower()
    site = website_domain(website_url)
    if not (email_verified and domain and site and "." in site):
        return False
    return domain == site or domain.endswith(f".{site}")


def _require_state(company: Company, state: CompanyState, reason: str) -> None:
    if company.state is not state:
        raise errors.FailedPrecondition(
            f"{company.name} is {company.state.value.replace('_', ' ')}, not {state.value.replace('_', ' ')}",
            reason=reason,
        )


def request_claim(company: Company, claim: Claim, auto_approve: bool, now: datetime) -> Company:
    _require_state(company, CompanyState.PRE_LISTED, "COMPANY_NOT_CLAIMABLE")
    state = CompanyState.ACTIVE if auto_approve else CompanyState.CLAIM_PENDING
    return replace(company, state=state, claim=claim, founder=claim.subject, updated_at=now)


def approve_claim(company: Company, now: datetime) -> Company:
    _require_state(company, CompanyState.CLAIM_PENDING, "NO_PENDING_CLAIM")
    return replace(company, state=CompanyState.ACTIVE, updated_at=now)


def reject_claim(company: Company, now: datetime) -> Company:
    _require_state(company, CompanyState.CLAIM_PENDING, "NO_PENDING_CLAIM")
    return replace(company, state=CompanyState.PRE_LISTED, claim=None, founder="", updated_at=now)

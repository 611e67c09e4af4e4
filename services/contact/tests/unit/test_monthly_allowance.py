"""The sending page's plan caps its contact requests per UTC calendar month (`contact_requests_per_month`,
billing's word through the shared entitlements port; 0: no cap)."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from devinsider_common.auth.principal import Principal
from devinsider_common.entitlements import WHEN_UNREACHABLE
from devinsider_common.errors import ResourceExhausted
from devinsider_common.pages.names import PageKind, PageName
from devinsider_common.testing.failures import failure

from ..harness import FUND, Contact, settings

TARGETS = [PageName(PageKind.COMPANY, f"isv-{n}") for n in range(1, 5)]


@pytest.fixture
def contact() -> Contact:
    """The daily rate off, so only the monthly allowance counts; 2026-03-30, two days before April."""
    found = Contact(config=settings(contact_request_rate_limit=0))
    found.clock.now = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
    return found


@pytest.fixture
def investor(contact: Contact) -> Principal:
    member = contact.member(FUND, "victor")
    for target in TARGETS:
        contact.unlock(FUND, target)
    return member


def test_a_page_sends_its_plans_monthly_allowance_then_waits_for_the_next_month(
    contact: Contact, investor: Principal
) -> None:
    contact.entitlements.set(FUND.name, contact_requests_per_month=2)
    for target in TARGETS[:2]:
        contact.send(investor, target)
        contact.clock.advance(hours=1)
    refused = failure(lambda: contact.send(investor, TARGETS[2]))
    assert (refused.code, refused.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "CONTACT_REQUESTS_PLAN_LIMIT")
    assert "sent its 2 contact requests of March 2026" in refused.message and "lifts it" in refused.message
    assert contact.entitlements.asked[-1] == FUND.name  # the sender's plan, not the target's
    with pytest.raises(ResourceExhausted) as raised:
        contact.send(investor, TARGETS[2])
    error = raised.value
    assert error.metadata["entitlement"] == "contact_requests_per_month" and error.metadata["limit"] == "2"
    assert error.retry_after_seconds == (datetime(2026, 4, 1, tzinfo=UTC) - contact.clock()).total_seconds()
    assert [v.subject for v in error.quota_violations] == [f"{FUND.name}/entitlements#contact_requests_per_month"]

    # A plan with more lifts it at once; so does the next calendar month (UTC) on the same plan.
    contact.entitlements.set(FUND.name, contact_requests_per_month=3)
    contact.send(investor, TARGETS[2])
    assert failure(lambda: contact.send(investor, TARGETS[3])).reason == "CONTACT_REQUESTS_PLAN_LIMIT"
    contact.clock.now = datetime(2026, 4, 1, 0, 0, 1, tzinfo=UTC)
    assert contact.send(investor, TARGETS[3]).sender == FUND


def test_zero_and_an_unreachable_billing_mean_no_monthly_cap(contact: Contact, investor: Principal) -> None:
    contact.entitlements.set(FUND.name, contact_requests_per_month=0)
    contact.send(investor, TARGETS[0])
    contact.entitlements.default = WHEN_UNREACHABLE  # what the billing client answers for a page it never saw
    contact.entitlements.pages.clear()
    for target in TARGETS[1:]:
        contact.send(investor, target)
    with contact.unit_of_work() as uow:
        assert len(uow.requests.sent_since(FUND, datetime(2026, 3, 1, tzinfo=UTC), 10)) == 4

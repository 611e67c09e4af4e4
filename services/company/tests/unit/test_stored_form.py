"""The stored form of a page's content and claim (typed to/from functions beside the value objects):
byte for byte what the reflective codec they replaced wrote, and tolerant of rows older than a field."""

from __future__ import annotations

import json

from company_service.domain.content import CompanyContent, Contact, Pitch, content_from_json, content_to_json
from company_service.domain.model import claim_from_json, claim_to_json

from ..old_rows import OLD_CLAIM, OLD_CLAIM_VALUE, OLD_PROFILE, RICH


def test_the_content_is_stored_as_before_and_reads_back() -> None:
    assert content_to_json(RICH) == OLD_PROFILE
    assert content_from_json(OLD_PROFILE) == RICH
    empty = content_to_json(CompanyContent())
    assert json.loads(empty)["financials"]["last_funding_date"] is None
    assert content_from_json(empty) == CompanyContent()


def test_the_claim_is_stored_as_before_and_reads_back() -> None:
    assert claim_to_json(OLD_CLAIM_VALUE) == OLD_CLAIM
    assert claim_from_json(OLD_CLAIM) == OLD_CLAIM_VALUE
    assert claim_from_json('{"subject": "kc-b"}').subject == "kc-b"


def test_a_row_older_than_a_field_reads_it_as_its_default() -> None:
    old = (
        '{"display_name":"Old","contact":{"email":"a@b.io"},"pitch":{"team":"t"},'
        '"financials":{"funding_rounds":[{"stage":"seed"}]}}'
    )
    content = content_from_json(old)
    assert content.display_name == "Old" and content.contact == Contact(email="a@b.io")
    assert content.pitch == Pitch(team="t") and content.financials.funding_rounds[0].close_date is None
    assert content_from_json("{}") == CompanyContent()

"""Shared field validators: country codes are assigned ISO 3166-1 codes, industries taxonomy codes."""

from __future__ import annotations

import pytest

from devinsider_common import validation
from devinsider_common.errors import Violations
from devinsider_common.taxonomy import INDUSTRY_CODES


def _problems(check: validation.CodeCheck, value: str) -> list[str]:
    found = Violations()
    check(found, "field", value)
    return [v.description for v in found.items]


@pytest.mark.parametrize("code", ["FR", "US", "DE", "JP", "ZA", "AQ"])
def test_assigned_country_codes_pass(code: str) -> None:
    assert _problems(validation.country_code, code) == []


@pytest.mark.parametrize("code", ["ZZ", "XK", "AA", "QM", "UK", "EU"])
def test_user_assigned_and_reserved_country_codes_are_refused_by_name(code: str) -> None:
    assert _problems(validation.country_code, code) == [f"`{code}` is not an ISO 3166-1 alpha-2 country code"]


@pytest.mark.parametrize("code", ["fr", "FRA", "F", "France"])
def test_malformed_country_codes_say_what_is_expected(code: str) -> None:
    assert _problems(validation.country_code, code) == ["must be an ISO 3166-1 alpha-2 code in upper case, e.g. FR"]


def test_an_empty_country_code_is_left_to_the_caller() -> None:
    assert _problems(validation.country_code, "") == []


def test_industries_are_the_taxonomy_codes_and_nothing_else() -> None:
    assert all(_problems(validation.industry_code, code) == [] for code in INDUSTRY_CODES)
    for invented in ("spacetech", "Fintech", "fintech ", ""):
        (problem,) = _problems(validation.industry_code, invented)
        assert f"`{invented}` is not an industry of the taxonomy" in problem

"""Field validators shared by the services (they add to a Violations collector, never raise alone)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from urllib.parse import urlparse

import pycountry

from devinsider_common.errors import Violations
from devinsider_common.taxonomy import INDUSTRY_CODES

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# A validator of one value at a path (`country_code`, `industry_code`…), for callers taking one.
CodeCheck = Callable[[Violations, str, str], None]
_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def text(violations: Violations, path: str, value: str, *, max_len: int, required: bool = False) -> None:
    if required and not value.strip():
        violations.add(path, "is required")
    elif len(value) > max_len:
        violations.add(path, f"must be at most {max_len} characters")
    elif any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        violations.add(path, "must not contain control characters")


def email(violations: Violations, path: str, value: str, *, required: bool = False) -> None:
    if not value:
        violations.check(not required, path, "is required")
        return
    violations.check(len(value) <= 254 and bool(_EMAIL.match(value)), path, "must be an e-mail address")


def https_url(violations: Violations, path: str, value: str, *, required: bool = False) -> None:
    if not value:
        violations.check(not required, path, "is required")
        return
    parsed = urlparse(value)
    violations.check(
        len(value) <= 2048 and parsed.scheme in {"https", "http"} and bool(parsed.netloc) and " " not in value,
        path,
        "must be an http(s) URL",
    )


@cache
def _assigned_countries() -> frozenset[str]:
    """The officially assigned ISO 3166-1 alpha-2 codes; user-assigned ones (`ZZ`, `XK`…) name no country."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


def country_code(violations: Violations, path: str, value: str) -> None:
    if not value:
        return
    if not _COUNTRY.match(value):
        violations.add(path, "must be an ISO 3166-1 alpha-2 code in upper case, e.g. FR")
    else:
        violations.check(value in _assigned_countries(), path, f"`{value}` is not an ISO 3166-1 alpha-2 country code")


def industry_code(violations: Violations, path: str, value: str) -> None:
    violations.check(
        value in INDUSTRY_CODES,
        path,
        f"`{value}` is not an industry of the taxonomy (GET /v1/taxonomy, dimension `industry`), e.g. `fintech`",
    )


def phone_number(violations: Violations, path: str, value: str) -> None:
    if value:
        violations.check(bool(_E164.match(value)), path, "must be in E.164 form, e.g. +33612345678")


def domain_name(violations: Violations, path: str, value: str) -> None:
    violations.check(bool(_DOMAIN.match(value)), path, "must be a lower-case domain name, e.g. example.com")

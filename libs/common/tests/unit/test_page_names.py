"""The one page-name model: kinds, the name value, the parsers, the id rule and the error shape. No I/O."""

from __future__ import annotations

import pytest

from devinsider_common import errors
from devinsider_common.ids import new_id
from devinsider_common.pages.names import (
    ID_MAX_LENGTH,
    PageKind,
    PageName,
    is_id,
    parse_child,
    parse_id,
    parse_page,
    parse_singleton,
)

ACME = PageName(PageKind.COMPANY, "acme")


def _violation(call: object, *args: object, **kwargs: object) -> errors.FieldViolation:
    with pytest.raises(errors.InvalidArgument) as raised:
        call(*args, **kwargs)  # type: ignore[operator]
    assert raised.value.reason == "INVALID_ARGUMENT"
    assert len(raised.value.violations) == 1
    return raised.value.violations[0]


# --- the id rule ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(new_id(), id="minted"),  # what every service mints (UUIDv7); a fixed id for xdist
        "0190f1c2-7b4e-7a1d-8c3e-2f4a5b6c7d8e",
        "6f1c2b9e-1d5a-4c0e-9b8f-3a2d1e0f9c8b",  # a Keycloak subject (UUIDv4)
        "u-6f1c2b9e-1d5a-4c0e-9b8f-3a2d1e0f9c8b",
        "isv-credits-10",  # a catalogue plan slug
        "acme",
        "x-1",
        "snake_case",
        "A",
        "-",  # the "every page" wildcard of a list's parent
        "a" * ID_MAX_LENGTH,
    ],
)
def test_ids_the_services_mint_or_receive_are_valid(value: str) -> None:
    assert is_id(value)
    assert parse_page(f"companies/{value}") == PageName(PageKind.COMPANY, value)
    assert parse_id(f"users/{value}", "users") == value


@pytest.mark.parametrize(
    "value",
    ["", "a" * (ID_MAX_LENGTH + 1), "a b", "a.b", "a%2Fb", "a\x00", "a\n", "é", "a/b", " acme", "acme "],
)
def test_other_ids_are_refused(value: str) -> None:
    assert not is_id(value)
    assert _violation(parse_page, f"companies/{value}").field == "name"
    assert _violation(parse_id, f"users/{value}", "users").field == "name"


# --- kinds and the name value --------------------------------------------------------------
def test_kinds_carry_the_proto_values_and_collections() -> None:
    assert [(k.value, k.collection, k.label) for k in PageKind] == [
        (1, "companies", "company"),
        (2, "investors", "investor"),
        (3, "programs", "program"),
    ]
    assert PageKind.from_collection("programs") is PageKind.PROGRAM
    assert PageKind.from_collection("users") is None
    assert PageKind.of("investors/i1") is PageKind.INVESTOR
    assert PageKind.of("investors/i1/members/m") is PageKind.INVESTOR
    assert PageKind.of("plans/p") is None


def test_a_page_name_is_its_kind_and_id() -> None:
    assert ACME.name == str(ACME) == "companies/acme"
    assert ACME.child("members", "m1") == "companies/acme/members/m1"
    assert parse_page(ACME.name) == ACME
    assert hash(parse_page("companies/acme")) == hash(ACME)
    ordered = sorted([PageName(PageKind.PROGRAM, "a"), PageName(PageKind.COMPANY, "b"), ACME])
    assert [p.name for p in ordered] == ["companies/acme", "companies/b", "programs/a"]


# --- parsers -------------------------------------------------------------------------------
def test_parsers_read_pages_children_and_singletons() -> None:
    assert parse_page("investors/x-1", "parent") == PageName(PageKind.INVESTOR, "x-1")
    assert parse_child("programs/p/applications/a1", "applications") == (PageName(PageKind.PROGRAM, "p"), "a1")
    assert parse_singleton("companies/c/creditBalance", "creditBalance") == PageName(PageKind.COMPANY, "c")
    assert parse_id("plans/isv-credits-10", "plans", "checkout.plan") == "isv-credits-10"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "users/x",
        "companies",
        "companies/",
        "/acme",
        "companies/a/b",
        "companies//",
        "Companies/acme",
        "companies/a b",
    ],
)
def test_bad_page_names_name_the_request_field(name: str) -> None:
    violation = _violation(parse_page, name, "unlock.target.name")
    assert violation.field == "unlock.target.name"
    assert violation.description.startswith("must look like `{companies|investors|programs}/{id}`")


def test_kinds_restrict_what_a_field_accepts() -> None:
    assert parse_page("programs/p", "target", (PageKind.PROGRAM, PageKind.INVESTOR)).kind is PageKind.PROGRAM
    violation = _violation(parse_page, "companies/c", "target", (PageKind.PROGRAM, PageKind.INVESTOR))
    assert (violation.field, violation.description.split(" (")[0]) == (
        "target",
        "must look like `{programs|investors}/{id}`",
    )
    violation = _violation(parse_page, "investors/i", "parent", (PageKind.COMPANY,))
    assert violation.description.split(" (")[0] == "must look like `companies/{id}`"


@pytest.mark.parametrize(
    "name",
    [
        "companies/c/invoices/i",  # another child collection
        "companies/c/members",
        "companies/c/members/",
        "companies/c/members/m/x",
        "companies/c d/members/m",
        "companies/c/members/m.1",
        "users/c/members/m",
    ],
)
def test_bad_child_names_name_the_request_field(name: str) -> None:
    violation = _violation(parse_child, name, "members", "member.name")
    assert violation.field == "member.name"
    assert violation.description.startswith("must look like `{companies|investors|programs}/{id}/members/{id}`")


@pytest.mark.parametrize(
    "name", ["companies/c", "companies/c/logo/x", "companies/c/Logo", "companies//logo", "logo", "users/u/logo"]
)
def test_bad_singleton_names_name_the_request_field(name: str) -> None:
    violation = _violation(parse_singleton, name, "logo", kinds=(PageKind.COMPANY,))
    assert (violation.field, violation.description.split(" (")[0]) == ("name", "must look like `companies/{id}/logo`")


@pytest.mark.parametrize("name", ["plans/", "plans/a/b", "plan/a", "users/a", "plans/a b"])
def test_bad_resource_names_name_the_request_field(name: str) -> None:
    violation = _violation(parse_id, name, "plans", "checkout.plan")
    assert (violation.field, violation.description.split(" (")[0]) == ("checkout.plan", "must look like `plans/{id}`")


def test_every_parser_gives_the_same_error_shape() -> None:
    """One reason, one violation, a description that states the id rule."""
    for call, args in [
        (parse_page, ("x", "p")),
        (parse_child, ("x", "members", "p")),
        (parse_singleton, ("x", "logo", "p")),
        (parse_id, ("x", "users", "p")),
    ]:
        violation = _violation(call, *args)
        assert violation.field == "p"
        assert violation.description.endswith("(an id is 1 to 64 ASCII letters, digits, `-` or `_`)")

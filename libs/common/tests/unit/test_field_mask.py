"""AIP-134 update masks: explicit paths, `*`, and the mask implied by the fields a body carries."""

from __future__ import annotations

import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2

from devinsider.company.v1 import company_pb2
from devinsider.user.v1 import user_pb2
from devinsider_common import errors
from devinsider_common.field_mask import json_path, resolve_update_mask

USER_FIELDS = ("given_name", "family_name", "biography", "contact_category")
# Like the company service: a nested message is a path, and so is each of its fields.
COMPANY_FIELDS = ("display_name", "industries", "contact", "contact.email", "contact.phone_number", "financials")


def _mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def test_explicit_paths_are_taken_as_they_are_whatever_the_body_carries() -> None:
    body = user_pb2.User(given_name="Ada", biography="kept")
    assert resolve_update_mask(_mask("family_name"), body, USER_FIELDS, "user") == {"family_name"}


def test_a_star_replaces_every_updatable_field_even_absent_ones() -> None:
    assert resolve_update_mask(_mask("*"), user_pb2.User(given_name="Ada"), USER_FIELDS, "user") == set(USER_FIELDS)


@pytest.mark.parametrize("mask", [None, _mask()], ids=["absent", "empty"])
def test_without_a_mask_only_the_fields_the_body_carries_change(mask: field_mask_pb2.FieldMask | None) -> None:
    body = user_pb2.User(given_name="Ada", contact_category=user_pb2.CONTACT_CATEGORY_SOFTWARE_VENDOR)
    assert resolve_update_mask(mask, body, USER_FIELDS, "user") == {"given_name", "contact_category"}


def test_the_implied_mask_ignores_identifiers_and_output_only_fields() -> None:
    body = user_pb2.User(
        name="users/me", email="x@example.com", verified_pro=True, roles=["staff"], family_name="Lovelace"
    )
    body.create_time.CopyFrom(timestamp_pb2.Timestamp(seconds=1))
    assert resolve_update_mask(None, body, USER_FIELDS, "user") == {"family_name"}


def test_the_implied_mask_goes_down_to_the_nested_fields_carried() -> None:
    body = company_pb2.Company(name="companies/1", contact=company_pb2.CompanyContact(email="a@b.example"))
    assert resolve_update_mask(None, body, COMPANY_FIELDS, "company") == {"contact.email"}


def test_an_empty_nested_message_or_one_without_own_paths_counts_as_a_whole() -> None:
    body = company_pb2.Company(financials=company_pb2.CompanyFinancials(looking_for_funding=True))
    body.contact.SetInParent()  # `"contact": {}`: the client sends an empty contact
    assert resolve_update_mask(None, body, COMPANY_FIELDS, "company") == {"contact", "financials"}


def test_a_body_carrying_nothing_to_update_is_refused_rather_than_a_silent_no_op() -> None:
    with pytest.raises(errors.InvalidArgument) as raised:
        resolve_update_mask(_mask(), user_pb2.User(name="users/me", email="x@example.com"), USER_FIELDS, "user")
    assert [v.field for v in raised.value.violations] == ["update_mask"]


def test_unknown_or_immutable_paths_are_refused_by_name() -> None:
    with pytest.raises(errors.InvalidArgument) as raised:
        resolve_update_mask(_mask("given_name", "email", "balance"), user_pb2.User(), USER_FIELDS, "user")
    assert [v.field for v in raised.value.violations] == ["update_mask.paths[email]", "update_mask.paths[balance]"]


def test_paths_reported_to_clients_take_their_json_names() -> None:
    assert [json_path(p) for p in ("industries", "hq_country_code", "financials.funding_target")] == [
        "industries",
        "hqCountryCode",
        "financials.fundingTarget",
    ]

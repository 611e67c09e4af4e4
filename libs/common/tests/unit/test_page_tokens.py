"""Page tokens: HMAC-signed, bound to the filters and the caller, stale after their max age."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from devinsider_common import context, errors, pagination
from devinsider_common.auth.principal import Principal
from devinsider_common.pagination import ListLimits, PageTokenSigner, finish_window, list_window

FILTERS = {"state": "x"}
MAX_AGE = 3600.0


@dataclass
class Clock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Item:
    id: str


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock()
    previous = pagination.configure(PageTokenSigner("test-secret", MAX_AGE, fake))
    yield fake
    pagination.configure(previous)


@contextmanager
def calling_as(subject: str | None) -> Iterator[None]:
    reset = context.principal_var.set(Principal(subject) if subject is not None else None)
    try:
        yield
    finally:
        context.principal_var.reset(reset)


def first_token(subject: str | None = "alice", filters: dict[str, str] = FILTERS) -> str:
    with calling_as(subject):
        page = list_window(2, "", ListLimits(), filters=filters)
        _, token = finish_window(page, [Item("a"), Item("b"), Item("c")])
    assert token
    return token


def refusal(token: str, subject: str | None = "alice", filters: dict[str, str] = FILTERS) -> str:
    """The page_token violation's description when `subject` sends `token` with `filters`."""
    with calling_as(subject), pytest.raises(errors.InvalidArgument) as raised:
        list_window(2, token, ListLimits(), filters=filters)
    ((field, description),) = [(v.field, v.description) for v in raised.value.violations]
    assert field == "page_token"
    return description


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _payload(token: str) -> dict[str, object]:
    body = token.split(".")[0]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


def test_a_token_round_trips_for_the_same_caller_and_filters(clock: Clock) -> None:
    token = first_token("alice")
    with calling_as("alice"):
        assert list_window(2, token, ListLimits(), filters=FILTERS).after == ("b",)
    anonymous = first_token(None)
    with calling_as(None):
        assert list_window(2, anonymous, ListLimits(), filters=FILTERS).after == ("b",)


def test_the_payload_names_neither_the_caller_nor_the_filters(clock: Clock) -> None:
    payload = _payload(first_token("alice-subject"))
    assert "alice-subject" not in json.dumps(payload) and "state" not in json.dumps(payload)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: t.split(".")[0], id="mac-removed"),
        pytest.param(lambda t: t + "A", id="mac-extended"),
        pytest.param(lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), id="mac-changed"),
        pytest.param(lambda t: "A" + t[1:] if t[0] != "A" else "B" + t[1:], id="payload-changed"),
        pytest.param(lambda t: "." + t.split(".")[1], id="payload-removed"),
        pytest.param(lambda t: "not-a-token", id="garbage"),
        pytest.param(lambda t: "é.\u00ff", id="not-ascii"),
    ],
)
def test_a_tampered_token_is_refused(clock: Clock, tamper: Callable[[str], str]) -> None:
    assert refusal(tamper(first_token())) == "is not a token this API issued"


def test_a_forged_position_under_the_original_mac_is_refused(clock: Clock) -> None:
    token = first_token()
    payload = {**_payload(token), "a": [1, 2, {"x": 3}]}
    forged = _b64(json.dumps(payload, separators=(",", ":")).encode()) + "." + token.split(".")[1]
    assert refusal(forged) == "is not a token this API issued"


def test_an_unsigned_token_of_the_old_format_is_refused(clock: Clock) -> None:
    fingerprint = pagination._fingerprint(FILTERS)
    old = _b64(json.dumps({"a": ["b"], "f": fingerprint}).encode())
    assert refusal(old) == "is not a token this API issued"


def test_a_token_signed_with_another_secret_is_refused(clock: Clock) -> None:
    foreign = PageTokenSigner("another-secret", MAX_AGE, clock).seal(("b",), pagination._fingerprint(FILTERS), "alice")
    assert refusal(foreign) == "is not a token this API issued"


@pytest.mark.parametrize(("issued_to", "sent_by"), [("alice", "bob"), ("alice", None), (None, "alice")])
def test_a_token_of_another_caller_is_refused(clock: Clock, issued_to: str | None, sent_by: str | None) -> None:
    assert refusal(first_token(issued_to), subject=sent_by) == "was issued to another caller"


def test_a_token_with_other_filters_is_refused(clock: Clock) -> None:
    assert refusal(first_token(), filters={"state": "y"}) == "was issued for a request with other filters"


def test_a_token_of_another_list_method_with_the_same_filters_is_refused(clock: Clock) -> None:
    reset = context.method_var.set("/devinsider.company.v1.CompanyService/ListMembers")
    try:
        token = first_token()
    finally:
        context.method_var.reset(reset)
    reset = context.method_var.set("/devinsider.company.v1.CompanyService/ListInvitations")
    try:
        assert refusal(token) == "was issued for a request with other filters"
    finally:
        context.method_var.reset(reset)


def test_a_token_older_than_the_max_age_is_refused(clock: Clock) -> None:
    token = first_token()
    clock.now += MAX_AGE
    with calling_as("alice"):
        assert list_window(2, token, ListLimits(), filters=FILTERS).after == ("b",)
    clock.now += 1
    assert refusal(token) == "has expired: request the first page again"


def test_configure_swaps_the_process_signer(clock: Clock) -> None:
    token = first_token()
    previous = pagination.configure(PageTokenSigner("rotated-secret", MAX_AGE, clock))
    try:
        assert refusal(token) == "is not a token this API issued"
    finally:
        pagination.configure(previous)
    with calling_as("alice"):
        assert list_window(2, token, ListLimits(), filters=FILTERS).after == ("b",)

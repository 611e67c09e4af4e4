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
from devinsider_common.settings import ServiceSettings

FILTERS = {"state": "x"}
MAX_AGE = 3600.0


@dataclass
class Clock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    @property
    def limits(self) -> ListLimits:
        """A service's List policy whose page tokens are signed on this clock."""
        return ListLimits(tokens=PageTokenSigner("test-secret", MAX_AGE, self))


@dataclass
class Item:
    id: str


@pytest.fixture
def clock() -> Clock:
    return Clock()


@contextmanager
def calling_as(subject: str | None) -> Iterator[None]:
    reset = context.principal_var.set(Principal(subject) if subject is not None else None)
    try:
        yield
    finally:
        context.principal_var.reset(reset)


def first_token(clock: Clock, subject: str | None = "alice", filters: dict[str, str] = FILTERS) -> str:
    with calling_as(subject):
        page = list_window(2, "", clock.limits, filters=filters)
        _, token = finish_window(page, [Item("a"), Item("b"), Item("c")])
    assert token
    return token


def refusal(clock: Clock, token: str, subject: str | None = "alice", filters: dict[str, str] = FILTERS) -> str:
    """The page_token violation's description when `subject` sends `token` with `filters`."""
    with calling_as(subject), pytest.raises(errors.InvalidArgument) as raised:
        list_window(2, token, clock.limits, filters=filters)
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
    token = first_token(clock, "alice")
    with calling_as("alice"):
        assert list_window(2, token, clock.limits, filters=FILTERS).after == ("b",)
    anonymous = first_token(clock, None)
    with calling_as(None):
        assert list_window(2, anonymous, clock.limits, filters=FILTERS).after == ("b",)


def test_the_payload_names_neither_the_caller_nor_the_filters(clock: Clock) -> None:
    payload = _payload(first_token(clock, "alice-subject"))
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
    assert refusal(clock, tamper(first_token(clock))) == "is not a token this API issued"


def test_a_forged_position_under_the_original_mac_is_refused(clock: Clock) -> None:
    token = first_token(clock)
    payload = {**_payload(token), "a": [1, 2, {"x": 3}]}
    forged = _b64(json.dumps(payload, separators=(",", ":")).encode()) + "." + token.split(".")[1]
    assert refusal(clock, forged) == "is not a token this API issued"


def test_an_unsigned_token_of_the_old_format_is_refused(clock: Clock) -> None:
    fingerprint = pagination._fingerprint(FILTERS)
    old = _b64(json.dumps({"a": ["b"], "f": fingerprint}).encode())
    assert refusal(clock, old) == "is not a token this API issued"


def test_a_token_signed_with_another_secret_is_refused(clock: Clock) -> None:
    foreign = PageTokenSigner("another-secret", MAX_AGE, clock).seal(("b",), pagination._fingerprint(FILTERS), "alice")
    assert refusal(clock, foreign) == "is not a token this API issued"


@pytest.mark.parametrize(("issued_to", "sent_by"), [("alice", "bob"), ("alice", None), (None, "alice")])
def test_a_token_of_another_caller_is_refused(clock: Clock, issued_to: str | None, sent_by: str | None) -> None:
    assert refusal(clock, first_token(clock, issued_to), subject=sent_by) == "was issued to another caller"


def test_a_token_with_other_filters_is_refused(clock: Clock) -> None:
    assert refusal(clock, first_token(clock), filters={"state": "y"}) == "was issued for a request with other filters"


def test_a_token_of_another_list_method_with_the_same_filters_is_refused(clock: Clock) -> None:
    reset = context.method_var.set("/devinsider.company.v1.CompanyService/ListMembers")
    try:
        token = first_token(clock)
    finally:
        context.method_var.reset(reset)
    reset = context.method_var.set("/devinsider.company.v1.CompanyService/ListInvitations")
    try:
        assert refusal(clock, token) == "was issued for a request with other filters"
    finally:
        context.method_var.reset(reset)


def test_a_token_older_than_the_max_age_is_refused(clock: Clock) -> None:
    token = first_token(clock)
    clock.now += MAX_AGE
    with calling_as("alice"):
        assert list_window(2, token, clock.limits, filters=FILTERS).after == ("b",)
    clock.now += 1
    assert refusal(clock, token) == "has expired: request the first page again"


def test_each_service_signs_with_its_own_key_in_one_process(clock: Clock) -> None:
    """Services sharing a process (the suite's tests) keep their own PAGE_TOKEN_SECRET: a token of
    one is refused by another, and a window seals with the signer that opened its request."""
    token = first_token(clock)
    other = ListLimits(tokens=PageTokenSigner("another-service-secret", MAX_AGE, clock))
    with calling_as("alice"), pytest.raises(errors.InvalidArgument):
        list_window(2, token, other, filters=FILTERS)
    with calling_as("alice"):
        window = list_window(2, "", other, filters=FILTERS)
        _, sealed = finish_window(window, [Item("a"), Item("b"), Item("c")])
        assert list_window(2, sealed, other, filters=FILTERS).after == ("b",)
        assert list_window(2, token, clock.limits, filters=FILTERS).after == ("b",)


def test_limits_from_settings_sign_with_the_services_secret() -> None:
    settings = ServiceSettings(page_token_secret="s3cret-of-the-service", default_page_size=7, max_page_size=9)
    limits = ListLimits.from_settings(settings)
    assert (limits.default, limits.maximum) == (7, 9)
    with calling_as("alice"):
        _, token = finish_window(list_window(1, "", limits), [Item("a"), Item("b")])
        assert list_window(1, token, limits).after == ("a",)
        with pytest.raises(errors.InvalidArgument):
            list_window(1, token, ListLimits())  # the public dev key

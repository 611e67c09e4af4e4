"""AIP-158 pagination: page sizes clamped to a server cap, opaque and tamper-evident page tokens.

A token carries the keyset position (the last item's sort key and id), a fingerprint of the query (its
method and filters), a keyed tag of the caller and its issue time, signed with HMAC-SHA256 under
PAGE_TOKEN_SECRET. So only positions this API produced reach a query (a crafted one could put values
of another type or count into it), and a token is refused with other filters (it would skip rows),
from another caller (tokens end up in URLs and logs) and once older than PAGE_TOKEN_MAX_AGE_SECONDS.
The payload is signed, not encrypted: it holds only positions of items the caller was already given.

The key is process-wide configuration, like the clock: `configure` is called once by the shared
server start (`devinsider_common.grpc.server.start_server`), so the List use cases keep calling
`list_window` / `finish_window` without carrying the key; until then the public dev key is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from devinsider_common import context, errors
from devinsider_common.settings import DEV_PAGE_TOKEN_SECRET

DEFAULT_MAX_AGE_SECONDS = 86400.0


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))


def _invalid(message: str) -> errors.InvalidArgument:
    return errors.InvalidArgument.for_field("page_token", message)


class PageTokenSigner:
    """Seals keyset positions into page tokens (`<payload>.<mac>`, base64url) and opens them again."""

    def __init__(
        self, secret: str, max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self._key = secret.encode()
        self._max_age = max_age_seconds
        self._clock = clock

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()

    def _caller_tag(self, subject: str) -> str:
        # Keyed, so that a token does not let its reader confirm a guessed subject.
        return _b64encode(self._mac(b"caller\x00" + subject.encode())[:12])

    def seal(self, position: tuple[Any, ...], fingerprint: str, subject: str) -> str:
        payload = {"a": list(position), "f": fingerprint, "c": self._caller_tag(subject), "t": int(self._clock())}
        body = _b64encode(json.dumps(payload, separators=(",", ":"), default=str).encode())
        return f"{body}.{_b64encode(self._mac(body.encode()))}"

    def open(self, token: str, fingerprint: str, subject: str) -> tuple[Any, ...]:
        """The position sealed in `token`; INVALID_ARGUMENT (field `page_token`) unless it is intact,
        fresh, and was issued to `subject` for the same filters."""
        body, _, mac = token.partition(".")
        try:
            authentic = hmac.compare_digest(_b64decode(mac), self._mac(body.encode()))
            payload = json.loads(_b64decode(body)) if authentic else None
        except ValueError:  # not base64 or not JSON (binascii.Error is a ValueError)
            authentic = False
        if not authentic or not isinstance(payload, dict):
            raise _invalid("is not a token this API issued")
        if self._clock() - payload["t"] > self._max_age:
            raise _invalid("has expired: request the first page again")
        if payload["c"] != self._caller_tag(subject):
            raise _invalid("was issued to another caller")
        if payload["f"] != fingerprint:
            raise _invalid("was issued for a request with other filters")
        return tuple(payload["a"])


DEV_TOKENS = PageTokenSigner(DEV_PAGE_TOKEN_SECRET)


class TokenSettings(Protocol):
    default_page_size: int
    max_page_size: int
    page_token_secret: str
    page_token_max_age_seconds: float


@dataclass(frozen=True)
class ListLimits:
    """A service's List policy: the page size when the request names none, the server cap, and the
    signer of its page tokens (the service's PAGE_TOKEN_SECRET; the public dev key by default)."""

    default: int = 50
    maximum: int = 200
    tokens: PageTokenSigner = field(default=DEV_TOKENS, compare=False)

    @classmethod
    def from_settings(cls, settings: TokenSettings) -> ListLimits:
        signer = PageTokenSigner(settings.page_token_secret, settings.page_token_max_age_seconds)
        return cls(settings.default_page_size, settings.max_page_size, signer)


@dataclass(frozen=True)
class ListWindow:
    """A validated List request: how many items, and after which keyset position; its page token
    is sealed by the signer that opened the request's.

    (AIP-158 calls the window a "page"; here "page" only ever means an organisation page.)"""

    size: int
    after: tuple[Any, ...] | None = None
    fingerprint: str = ""
    tokens: PageTokenSigner = field(default=DEV_TOKENS, compare=False, repr=False)


def _caller() -> str:
    principal = context.current_principal()
    return principal.subject if principal is not None else ""


def _fingerprint(filters: dict[str, Any]) -> str:
    # The method is part of the query: two Lists with the same filters never take each other's tokens.
    canonical = json.dumps({"method": context.current_method(), "filters": filters}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def list_window(
    page_size: int, page_token: str, limits: ListLimits, *, filters: dict[str, Any] | None = None
) -> ListWindow:
    """Validate `page_size`/`page_token` of a List request (negative sizes and foreign tokens are errors)."""
    if page_size < 0:
        raise errors.InvalidArgument.for_field("page_size", "must not be negative")
    size = min(page_size or limits.default, limits.maximum)
    fingerprint = _fingerprint(filters or {})
    if not page_token:
        return ListWindow(size=size, fingerprint=fingerprint, tokens=limits.tokens)
    after = limits.tokens.open(page_token, fingerprint, _caller())
    return ListWindow(size=size, after=after, fingerprint=fingerprint, tokens=limits.tokens)


def next_page_token(window: ListWindow, last_position: tuple[Any, ...] | None, has_more: bool) -> str:
    """The token for the window after the one ending at `last_position`; empty on the last one."""
    if not has_more or last_position is None:
        return ""
    return window.tokens.seal(last_position, window.fingerprint, _caller())


T = TypeVar("T")


def finish_window(
    window: ListWindow, found: Sequence[T], position: Callable[[T], tuple[Any, ...]] | None = None
) -> tuple[list[T], str]:
    """Cut a repository's `window.size + 1` rows to the window and its next page token.

    `position` gives an item's keyset position (default: its `id`, for tables ordered by id).
    """
    items = list(found[: window.size])
    key = position or (lambda item: (getattr(item, "id"),))  # noqa: B009 - any item with an id
    last = key(items[-1]) if items else None
    return items, next_page_token(window, last, has_more=len(found) > window.size)

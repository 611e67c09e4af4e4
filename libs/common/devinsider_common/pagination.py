"""AIP-158 pagination: page sizes clamped to a server cap, opaque page tokens.

A token encodes the keyset position (the last item's sort key and id) and a fingerprint of
the query's filters, so a token reused with other filters is rejected instead of skipping rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from devinsider_common import errors


@dataclass(frozen=True)
class PageRequest:
    """A validated page request: how many items, and after which position."""

    size: int
    after: tuple[Any, ...] | None = None
    fingerprint: str = ""


def _fingerprint(filters: dict[str, Any]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def page_request(
    page_size: int, page_token: str, *, default: int, maximum: int, filters: dict[str, Any] | None = None
) -> PageRequest:
    """Validate `page_size`/`page_token` of a List request (negative sizes and foreign tokens are errors)."""
    if page_size < 0:
        raise errors.InvalidArgument.for_field("page_size", "must not be negative")
    size = min(page_size or default, maximum)
    fingerprint = _fingerprint(filters or {})
    if not page_token:
        return PageRequest(size=size, fingerprint=fingerprint)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(page_token.encode() + b"=" * (-len(page_token) % 4)))
        after, token_fingerprint = tuple(decoded["a"]), decoded["f"]
    except (ValueError, KeyError, TypeError) as error:
        raise errors.InvalidArgument.for_field("page_token", "is not a token this API issued") from error
    if token_fingerprint != fingerprint:
        raise errors.InvalidArgument.for_field("page_token", "was issued for a request with other filters")
    return PageRequest(size=size, after=after, fingerprint=fingerprint)


def next_page_token(page: PageRequest, last_position: tuple[Any, ...] | None, has_more: bool) -> str:
    """The token for the page after the one ending at `last_position`; empty on the last page."""
    if not has_more or last_position is None:
        return ""
    payload = json.dumps({"a": list(last_position), "f": page.fingerprint}, default=str)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


T = TypeVar("T")


def finish_page(
    page: PageRequest, found: Sequence[T], position: Callable[[T], tuple[Any, ...]] | None = None
) -> tuple[list[T], str]:
    """Cut a repository's `page.size + 1` rows to the page and its next token.

    `position` gives an item's keyset position (default: its `id`, for tables ordered by id).
    """
    items = list(found[: page.size])
    key = position or (lambda item: (getattr(item, "id"),))  # noqa: B009 - any item with an id
    last = key(items[-1]) if items else None
    return items, next_page_token(page, last, has_more=len(found) > page.size)

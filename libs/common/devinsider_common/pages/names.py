"""Resource names, parsed one way in every service: page kinds, the page name value and its parsers.

An organisation page is named `{collection}/{id}` (`companies/{id}`, `investors/{id}`, `programs/{id}`);
its children are `{collection}/{id}/{child}/{id}` (`companies/{id}/members/{id}`) and its singletons
`{collection}/{id}/{singleton}` (`companies/{id}/logo`). Other top-level resources (`users/{id}`,
`plans/{id}`, `proVerifications/{id}`…) are read with `parse_id`.

The id rule, the same for every segment that is an id and in every service: 1 to 64 characters, each an
ASCII letter, a digit, `-` or `_` (`^[A-Za-z0-9_-]{1,64}$`). It accepts every id the services mint
(UUIDv7 strings from `devinsider_common.ids`, 36 characters), the ids they are given by others (Keycloak
subjects are UUIDs, user ids are minted by the user service) and the catalogue's plan slugs
(`isv-credits-10`). It refuses an empty id, one longer than 64, and one with `/`, `.`, spaces,
percent-escapes, control or non-ASCII characters.

The error shape, the same everywhere: `errors.InvalidArgument` with one field violation naming the request
field (`parent`, `unlock.target.name`, `names[2]`…) and saying what the name must look like.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from devinsider_common import errors

ID_MAX_LENGTH = 64
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ID_RULE = "an id is 1 to 64 ASCII letters, digits, `-` or `_`"


class PageKind(enum.IntEnum):
    """The kinds of organisation page; the values are those of devinsider.common.v1.PageKind."""

    COMPANY = 1
    INVESTOR = 2
    PROGRAM = 3

    @property
    def collection(self) -> str:
        """The collection in the page's name: `companies`, `investors` or `programs`."""
        return _COLLECTIONS[self]

    @property
    def label(self) -> str:
        """The kind in lower case, for messages: `company`, `investor` or `program`."""
        return self.name.lower()

    @classmethod
    def from_collection(cls, collection: str) -> PageKind | None:
        return _KINDS.get(collection)

    @classmethod
    def of(cls, name: str) -> PageKind | None:
        """The kind a name (`programs/{id}`, `programs/{id}/…`) starts with, None for any other name."""
        return _KINDS.get(name.partition("/")[0])


_COLLECTIONS = {PageKind.COMPANY: "companies", PageKind.INVESTOR: "investors", PageKind.PROGRAM: "programs"}
_KINDS = {collection: kind for kind, collection in _COLLECTIONS.items()}
ALL_KINDS: tuple[PageKind, ...] = tuple(PageKind)


@dataclass(frozen=True, order=True)
class PageName:
    """The name of an organisation page: its kind and its id. Orders by kind, then id."""

    kind: PageKind
    id: str

    @property
    def name(self) -> str:
        return f"{self.kind.collection}/{self.id}"

    def __str__(self) -> str:
        return self.name

    def child(self, collection: str, child_id: str) -> str:
        """The name of a child of the page: `companies/{id}/members/{member id}`."""
        return f"{self.name}/{collection}/{child_id}"


def is_id(value: str) -> bool:
    """Whether `value` is a valid id segment (the module's one id rule)."""
    return _ID.fullmatch(value) is not None


def invalid_name(path: str, shape: str) -> errors.InvalidArgument:
    """The one error for a malformed name: INVALID_ARGUMENT with a violation of the field at `path`."""
    return errors.InvalidArgument.for_field(path, f"must look like {shape} ({_ID_RULE})")


def _pattern(kinds: tuple[PageKind, ...]) -> str:
    collections = [k.collection for k in kinds]
    return collections[0] if len(collections) == 1 else "{" + "|".join(collections) + "}"


def parse_id(name: str, collection: str, path: str = "name") -> str:
    """The id in `{collection}/{id}` (for resources that are not pages: `users`, `plans`…)."""
    head, _, identifier = name.partition("/")
    if head != collection or not is_id(identifier):
        raise invalid_name(path, f"`{collection}/{{id}}`")
    return identifier


def _page(parts: list[str], kinds: tuple[PageKind, ...]) -> PageName | None:
    kind = _KINDS.get(parts[0])
    if kind is None or kind not in kinds or not is_id(parts[1]):
        return None
    return PageName(kind, parts[1])


def parse_page(name: str, path: str = "name", kinds: tuple[PageKind, ...] = ALL_KINDS) -> PageName:
    """`companies/{id}`, `investors/{id}` or `programs/{id}` (restricted to `kinds`)."""
    parts = name.split("/")
    page = _page(parts, kinds) if len(parts) == 2 else None
    if page is None:
        raise invalid_name(path, f"`{_pattern(kinds)}/{{id}}`")
    return page


def parse_child(
    name: str, child: str, path: str = "name", kinds: tuple[PageKind, ...] = ALL_KINDS
) -> tuple[PageName, str]:
    """`{collection}/{id}/{child}/{child id}` -> (the page, the child id)."""
    parts = name.split("/")
    page = _page(parts, kinds) if len(parts) == 4 and parts[2] == child and is_id(parts[3]) else None
    if page is None:
        raise invalid_name(path, f"`{_pattern(kinds)}/{{id}}/{child}/{{id}}`")
    return page, parts[3]


def parse_singleton(name: str, singleton: str, path: str = "name", kinds: tuple[PageKind, ...] = ALL_KINDS) -> PageName:
    """`{collection}/{id}/{singleton}` -> the page."""
    parts = name.split("/")
    page = _page(parts, kinds) if len(parts) == 3 and parts[2] == singleton else None
    if page is None:
        raise invalid_name(path, f"`{_pattern(kinds)}/{{id}}/{singleton}`")
    return page

"""Organisation pages as billing sees them: a kind and an id, named `{companies|investors|programs}/{id}`."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from devinsider_common import errors

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PageKind(enum.IntEnum):
    """Values match devinsider.common.v1.PageKind."""

    COMPANY = 1
    INVESTOR = 2
    PROGRAM = 3

    @property
    def collection(self) -> str:
        return _COLLECTIONS[self]

    @property
    def label(self) -> str:
        return self.name.lower()


_COLLECTIONS = {PageKind.COMPANY: "companies", PageKind.INVESTOR: "investors", PageKind.PROGRAM: "programs"}
_BY_COLLECTION = {v: k for k, v in _COLLECTIONS.items()}


@dataclass(frozen=True)
class Page:
    kind: PageKind
    id: str

    @property
    def name(self) -> str:
        return f"{self.kind.collection}/{self.id}"

    def __str__(self) -> str:
        return self.name


def parse_page(name: str, path: str = "parent") -> Page:
    """`companies/{id}` (or investors/programs) -> Page; InvalidArgument naming `path` otherwise."""
    collection, _, identifier = name.partition("/")
    kind = _BY_COLLECTION.get(collection)
    if kind is None or not _ID.match(identifier):
        raise errors.InvalidArgument.for_field(
            path, "must look like `companies/{id}`, `investors/{id}` or `programs/{id}`"
        )
    return Page(kind, identifier)


def parse_child(name: str, collection: str, path: str = "name") -> tuple[Page, str]:
    """`companies/{id}/{collection}/{child}` -> (page, child id)."""
    parts = name.split("/")
    if len(parts) != 4 or parts[2] != collection or not _ID.match(parts[3]):
        raise errors.InvalidArgument.for_field(path, f"must look like `companies/{{id}}/{collection}/{{id}}`")
    return parse_page("/".join(parts[:2]), path), parts[3]


def parse_singleton(name: str, singleton: str, path: str = "name") -> Page:
    """`companies/{id}/{singleton}` -> page."""
    head, _, tail = name.rpartition("/")
    if tail != singleton:
        raise errors.InvalidArgument.for_field(path, f"must look like `companies/{{id}}/{singleton}`")
    return parse_page(head, path)

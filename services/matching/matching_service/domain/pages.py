"""Pages as the matching service sees them: a kind and a resource name owned by another service."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from devinsider_common.errors import Violations


class PageKind(enum.IntEnum):
    """Values of devinsider.common.v1.PageKind."""

    COMPANY = 1
    INVESTOR = 2
    PROGRAM = 3

    @property
    def collection(self) -> str:
        return _COLLECTIONS[self]


_COLLECTIONS = {PageKind.COMPANY: "companies", PageKind.INVESTOR: "investors", PageKind.PROGRAM: "programs"}
_KINDS = {collection: kind for kind, collection in _COLLECTIONS.items()}
TARGET_KINDS = (PageKind.PROGRAM, PageKind.INVESTOR)


@dataclass(frozen=True, order=True)
class PageRef:
    kind: PageKind
    name: str

    @property
    def id(self) -> str:
        return self.name.partition("/")[2]


def parse_page(name: str, path: str, kinds: tuple[PageKind, ...] = tuple(PageKind)) -> PageRef:
    """`companies/{id}`, `investors/{id}` or `programs/{id}` (restricted to `kinds`); InvalidArgument otherwise."""
    collection, _, identifier = name.partition("/")
    kind = _KINDS.get(collection)
    if kind is None or kind not in kinds or not identifier or "/" in identifier or len(identifier) > 64:
        allowed = " or ".join(f"`{k.collection}/{{id}}`" for k in kinds)
        violations = Violations()
        violations.add(path, f"must look like {allowed}")
        violations.raise_if_any()
    return PageRef(kind, name)  # type: ignore[arg-type]


def parse_child(name: str, child: str, path: str = "name") -> tuple[PageRef, str]:
    """`{collection}/{page}/{child}/{id}` -> (the page, the child id)."""
    parts = name.split("/")
    if len(parts) != 4 or parts[2] != child or not parts[3] or len(parts[3]) > 64:
        violations = Violations()
        violations.add(path, f"must look like `{{companies|investors|programs}}/{{id}}/{child}/{{id}}`")
        violations.raise_if_any()
    return parse_page("/".join(parts[:2]), path), parts[3]


@dataclass(frozen=True)
class PageStatus:
    """What the owning service last said about a page, as far as matching cares (gates, summaries)."""

    page: PageRef
    active: bool = False
    # Companies: whether the page is complete enough for program / investor matchmaking.
    program_complete: bool = False
    investor_complete: bool = False
    # Programs: the company page of the vendor running it (`companies/{id}`), if any.
    vendor_company: str = ""
    display_name: str = ""
    logo_url: str = ""
    tagline: str = ""
    country_code: str = ""

    def complete_for(self, target_kind: PageKind) -> bool:
        return self.program_complete if target_kind is PageKind.PROGRAM else self.investor_complete

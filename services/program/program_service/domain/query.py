"""ListPrograms' query and the keyset positions of its orders. No I/O.

A page token carries `position(program, order_by)`; the repository reads the programs after it in
the same order (`ProgramStore.list_after`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from devinsider_common.clock import as_utc
from program_service.domain.program import Program, ProgramState, ProgramType

# The orders ListPrograms accepts: by name (ascending), or newest first by publish or update time.
ORDERS = ("display_name", "publish_time desc", "update_time desc")
# Where a program never published sorts in "publish_time desc": after every published one.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ProgramQuery:
    """ListPrograms' filters, already validated, and who may see what."""

    text: str = ""
    types: tuple[ProgramType, ...] = ()
    country_codes: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    vendor_company: str = ""
    states: tuple[ProgramState, ...] = (ProgramState.PUBLISHED,)
    order_by: str = "display_name"
    # Unpublished programs are listed only to staff and to their members: `viewer` is the caller's subject
    # (membership is read in the listing's own statement; its role on each program comes along).
    see_all: bool = False
    viewer: str | None = None
    only_member_of: bool = False  # only the programs `viewer` is a member of
    orphaned: bool = False  # only the programs marked orphaned (staff)

    def criteria(self) -> list[str]:
        """The criteria filters the query uses, as the request names them: what `directory_filters` sells."""
        used = {"program_types": self.types, "country_codes": self.country_codes, "industries": self.industries}
        return [name for name, values in used.items() if values]

    def filters(self) -> dict[str, object]:
        """What a page token is bound to (the caller's scope is not: it is the caller's own)."""
        return {
            "text": self.text,
            "types": sorted(int(t) for t in self.types),
            "countries": sorted(self.country_codes),
            "industries": sorted(self.industries),
            "vendor": self.vendor_company,
            "states": sorted(s.value for s in self.states),
            "order": self.order_by,
            "member": self.only_member_of,
            "orphaned": self.orphaned,
        }

    def descending(self) -> bool:
        return self.order_by != "display_name"


def sort_key(program: Program, order_by: str) -> str:
    """The value `order_by` sorts on (a lower-cased name, or an ISO time in UTC)."""
    if order_by == "publish_time desc":
        return as_utc(program.published_at or EPOCH).isoformat()
    if order_by == "update_time desc":
        return as_utc(program.updated_at or EPOCH).isoformat()
    return program.content.display_name.lower()


def position(program: Program, order_by: str) -> tuple[str, str]:
    """The keyset position of `program` in `order_by` (what a page token carries)."""
    return sort_key(program, order_by), program.id

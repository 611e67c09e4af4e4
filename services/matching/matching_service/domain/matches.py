"""Match lists and scores as the use cases return them, and the query a list puts to the index.

A match list is keyset-paginated on (shown score, page name): `Query.after` is the position of the
last item of the previous window, `position` gives an item's.

A page whose plan caps match results (`Query.cap`, billing's `match_results_visible`) sees its `cap` best
matches only: best shown score first, ties by name, blocked pages and gated pairs left out, before the
request's filters, which apply within them (so filters cannot page past the cap). What passes the filters
beyond them is counted, not shown (`MatchList.hidden`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from devinsider_common.pages.names import PageName
from matching_service.domain.gates import Gate
from matching_service.domain.pages import PageStatus
from matching_service.domain.scoring import DimensionScore
from matching_service.domain.taxonomy import Dimension


@dataclass(frozen=True)
class Query:
    """Filters of a match list; `after` is the keyset position (score, name) of the previous window."""

    excluded: Collection[str] = ()
    only: Collection[str] | None = None
    min_score: float = 0.0
    full_dimensions: tuple[Dimension, ...] = ()
    criteria: tuple[tuple[Dimension, str], ...] = ()
    after: tuple[float, str] | None = None
    limit: int = 50
    cap: int = 0  # only the page's `cap` best matches are listed; 0: all


@dataclass(frozen=True)
class MatchFilters:
    """What a List*Matches request asks for, beyond its window."""

    min_score: float = 0.0
    full_dimensions: tuple[Dimension, ...] = ()
    criteria: tuple[tuple[Dimension, str], ...] = ()
    favorites_only: bool = False
    explain: bool = False


@dataclass(frozen=True)
class ScoreResult:
    company: PageName
    target: PageName
    gate: Gate
    score: float
    dimensions: tuple[DimensionScore, ...]
    taxonomy_version: int


@dataclass(frozen=True)
class MatchItem:
    page: PageName
    score: float
    favorite: bool
    status: PageStatus | None
    dimensions: tuple[DimensionScore, ...] = ()


@dataclass(frozen=True)
class MatchList:
    """One window of a match list: its items, the token of the next window, the total of the list (what the
    page sees), and how many matches passing the filters its plan's cap hides."""

    items: list[MatchItem]
    next_page_token: str
    total_size: int
    hidden: int = 0


def position(score: float, name: str) -> tuple[float, str]:
    """The keyset position of a listed match."""
    return (score, name)

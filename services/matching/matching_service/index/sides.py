"""Column stores of one side of the index (the targets of one kind, or the companies).

Rows are slots; matrices indexed by code are stored code-major (`[column, slot]`), so the few
columns a query touches are contiguous rows and a query over 100k slots reads a few megabytes.
"""

from __future__ import annotations

import bisect

import numpy as np
import numpy.typing as npt

from devinsider_common.pages.names import PageKind
from matching_service.domain.gates import looking_for_funding
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.scoring import Weights, normalised_weights, stated_dimensions
from matching_service.domain.taxonomy import CODED, Dimension
from matching_service.index.encoding import DIMENSIONS, CodeSpace, D, dim_pos

AMOUNT = dim_pos(Dimension.FUNDING_AMOUNT)


class Side:
    def __init__(self, space: CodeSpace, capacity: int = 1024) -> None:
        self.space = space
        self.k = space.size
        self.cap = capacity
        self.n = 0  # slots used (live or freed)
        self.slots: dict[str, int] = {}
        self.names: list[str] = []
        self.free: list[int] = []
        self.live = np.zeros(capacity, dtype=bool)
        self.active = np.zeros(capacity, dtype=bool)
        self.member = np.zeros((self.k, capacity), dtype=np.uint8)
        self.currency = np.full(capacity, -1, dtype=np.int32)
        self._sorted: list[str] = []
        self._rank = np.zeros(capacity, dtype=np.int64)
        self._rank_dirty = False

    # -- storage -------------------------------------------------------------------------------
    def _grow(self) -> None:
        new = self.cap * 2
        for attr in self._row_arrays():
            old = getattr(self, attr)
            grown = np.zeros(new, dtype=old.dtype) if attr != "currency" else np.full(new, -1, dtype=old.dtype)
            grown[: self.cap] = old
            setattr(self, attr, grown)
        for attr in self._column_arrays():
            old = getattr(self, attr)
            grown = np.zeros((old.shape[0], new), dtype=old.dtype)
            grown[:, : self.cap] = old
            setattr(self, attr, grown)
        self.cap = new

    def _row_arrays(self) -> tuple[str, ...]:
        return ("live", "active", "currency", "_rank")

    def _column_arrays(self) -> tuple[str, ...]:
        return ("member",)

    def _slot(self, name: str) -> int:
        slot = self.slots.get(name)
        if slot is not None:
            return slot
        if self.free:
            slot = self.free.pop()
            self.names[slot] = name
        else:
            if self.n == self.cap:
                self._grow()
            slot = self.n
            self.n += 1
            self.names.append(name)
        self.slots[name] = slot
        self._rank_dirty = True
        return slot

    def _clear(self, slot: int) -> None:
        self.member[:, slot] = 0
        self.currency[slot] = -1

    def remove(self, name: str) -> None:
        slot = self.slots.pop(name, None)
        if slot is None:
            return
        self._clear(slot)
        self.live[slot] = self.active[slot] = False
        self.names[slot] = ""
        self.free.append(slot)
        self._rank_dirty = True

    def set_member(self, slot: int, profile: CriteriaProfile) -> None:
        self.member[:, slot] = 0
        cols = self.space.member(profile)
        if cols:
            self.member[cols, slot] = 1

    # -- ordering: best score first, ties by name ---------------------------------------------------
    def ranks(self) -> npt.NDArray[np.int64]:
        if self._rank_dirty:
            self._sorted = sorted(name for name in self.names if name)
            order = {name: i for i, name in enumerate(self._sorted)}
            self._rank[: self.n] = [order.get(name, -1) for name in self.names]
            self._rank_dirty = False
        return self._rank[: self.n]

    def rank_after(self, name: str) -> int:
        """Slots whose name sorts after `name` have a rank >= this."""
        self.ranks()
        return bisect.bisect_right(self._sorted, name)


class TargetSide(Side):
    """Programs or investors: per-column credit, per-dimension weights and required flags."""

    def __init__(self, space: CodeSpace, kind: PageKind, weights: Weights, capacity: int = 1024) -> None:
        super().__init__(space, capacity)
        self.kind = kind
        self.weights_config = weights
        self.credit = np.zeros((self.k, capacity), dtype=np.float64)
        self.weights = np.zeros((D, capacity), dtype=np.float64)
        self.required = np.zeros((D, capacity), dtype=bool)
        self.low = np.zeros(capacity, dtype=np.float64)
        self.high = np.zeros(capacity, dtype=np.float64)
        self.vendor: dict[int, str] = {}
        self.by_vendor: dict[str, set[int]] = {}

    def _row_arrays(self) -> tuple[str, ...]:
        return (*super()._row_arrays(), "low", "high")

    def _column_arrays(self) -> tuple[str, ...]:
        return (*super()._column_arrays(), "credit", "weights", "required")

    def _clear(self, slot: int) -> None:
        super()._clear(slot)
        self.credit[:, slot] = 0
        self.weights[:, slot] = 0
        self.required[:, slot] = False
        vendor = self.vendor.pop(slot, "")
        if vendor:
            self.by_vendor.get(vendor, set()).discard(slot)

    def upsert(self, profile: CriteriaProfile, status: PageStatus | None) -> None:
        slot = self._slot(profile.page.name)
        self._clear(slot)
        self.live[slot] = True
        self.active[slot] = bool(status and status.active)
        self.set_member(slot, profile)
        taxonomy = self.space.taxonomy
        stated = stated_dimensions(taxonomy, profile)
        for dimension, weight in normalised_weights(stated, self.weights_config).items():
            self.weights[dim_pos(dimension), slot] = weight
        for dimension in stated:
            self.required[dim_pos(dimension), slot] = profile.required(dimension)
        for dimension in CODED:
            for col, value in self.space.credit(dimension, profile.codes(dimension)).items():
                self.credit[col, slot] = value
        bounds = profile.ticket_range.bounds if profile.ticket_range is not None else None
        if bounds is not None:
            low, high = bounds
            self.currency[slot] = self.space.currency_id(low.currency_code)
            self.low[slot] = float(low.amount_minor)
            self.high[slot] = float(high.amount_minor)
        if status is not None and status.vendor_company:
            self.vendor[slot] = status.vendor_company
            self.by_vendor.setdefault(status.vendor_company, set()).add(slot)

    def owned_by(self, company: str) -> list[int]:
        return sorted(self.by_vendor.get(company, ()))


class CompanySide(Side):
    """ISV companies: their codes (one-hot), funding need and completeness."""

    def __init__(self, space: CodeSpace, capacity: int = 1024) -> None:
        super().__init__(space, capacity)
        self.amount = np.zeros(capacity, dtype=np.float64)
        self.looking = np.zeros(capacity, dtype=bool)
        self.program_ready = np.zeros(capacity, dtype=bool)
        self.investor_ready = np.zeros(capacity, dtype=bool)
        self.codes: dict[int, dict[Dimension, list[int]]] = {}

    def _row_arrays(self) -> tuple[str, ...]:
        return (*super()._row_arrays(), "amount", "looking", "program_ready", "investor_ready")

    def _clear(self, slot: int) -> None:
        super()._clear(slot)
        self.amount[slot] = 0
        self.codes.pop(slot, None)

    def upsert(self, profile: CriteriaProfile, status: PageStatus | None) -> None:
        slot = self._slot(profile.page.name)
        self._clear(slot)
        self.live[slot] = True
        active = bool(status and status.active)
        self.active[slot] = active
        self.program_ready[slot] = active and bool(status and status.program_complete)
        self.investor_ready[slot] = active and bool(status and status.investor_complete)
        self.looking[slot] = looking_for_funding(profile)
        self.set_member(slot, profile)
        self.codes[slot] = {d: self.space.cols(d, profile.codes(d)) for d in CODED}
        need = profile.funding_need
        if need is not None and need.amount is not None:
            self.currency[slot] = self.space.currency_id(need.amount.currency_code)
            self.amount[slot] = float(need.amount.amount_minor)

    def ready(self, kind: PageKind) -> npt.NDArray[np.bool_]:
        if kind is PageKind.PROGRAM:
            return self.program_ready[: self.n]
        return self.investor_ready[: self.n] & self.looking[: self.n]


__all__ = ["DIMENSIONS", "CompanySide", "TargetSide"]

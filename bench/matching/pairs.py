"""Every company against every target, in blocks of float32 BLAS products: what the bench measures
(`bench.matching.run`). The service never scores all pairs; this reads its index (`MatchIndex`) as it is.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from devinsider_common.pages.names import PageKind
from matching_service.domain.taxonomy import CODED, Dimension, Scale
from matching_service.index.encoding import dim_pos
from matching_service.index.engine import Floats, MatchIndex

Scores32 = npt.NDArray[np.float32]


def _ticket_fit32(
    amount: Floats,
    company_currency: npt.NDArray[np.int32],
    inv_low: Scores32,
    inv_high: Scores32,
    target_currency: npt.NDArray[np.int32],
) -> Scores32:
    """`ticket_fit` for targets x companies in float32, in place: min(a/low, 1, max(0, 2 - a/high))."""
    a = amount.astype(np.float32)
    fit = np.multiply.outer(inv_low, a)
    np.minimum(fit, 1.0, out=fit)
    above = np.multiply.outer(inv_high, a)
    np.subtract(2.0, above, out=above)
    np.maximum(above, 0.0, out=above)
    np.minimum(fit, above, out=fit)
    valid = (company_currency >= 0) & (amount > 0)
    if not (
        valid.all()
        and (target_currency == company_currency[0]).all()
        and (company_currency == company_currency[0]).all()
    ):
        fit *= (target_currency[:, None] == company_currency[None, :]) & valid[None, :]
    return fit


def all_pairs(index: MatchIndex, kind: PageKind, block: int = 1024) -> Iterator[tuple[npt.NDArray[np.intp], Scores32]]:
    """(company slots, scores [companies x target slots]) by blocks of companies; gated pairs are -inf.

    Float32 BLAS products (scores within 1e-3 of the float64 path); targets are the rows of each
    block's product so the few rows that gates touch are contiguous. Blocks between pages are the
    caller's to apply (they are few)."""
    with index.lock:
        comp, side = index.companies, index.targets[kind]
        nt = side.n
        dim_of_col = np.empty(index.space.size, dtype=np.intp)
        for dimension in CODED:
            dim_of_col[index.space.spans[dimension]] = dim_pos(dimension)
        weighted = np.ascontiguousarray(
            (100.0 * side.credit[:, :nt] * side.weights[dim_of_col, :nt]).T, dtype=np.float32
        )  # targets x K
        geo = index.space.spans[Dimension.COUNTRY]
        exact: list[tuple[slice, npt.NDArray[np.intp], Scores32]] = []
        for dimension in CODED:
            p, span = dim_pos(dimension), index.space.spans[dimension]
            requiring = np.flatnonzero(side.required[p, :nt])
            if requiring.size:
                wanted = (
                    side.member[span, :][:, requiring]
                    if dimension.scale is Scale.SET
                    else side.credit[span, :][:, requiring] >= 1.0
                )
                exact.append((span, requiring, np.ascontiguousarray(wanted.T, dtype=np.float32)))
        dead = np.flatnonzero(~(side.live[:nt] & side.active[:nt]))
        investor = kind is PageKind.INVESTOR
        amount_required = np.flatnonzero(side.required[dim_pos(Dimension.FUNDING_AMOUNT), :nt]) if investor else None
        ready = np.flatnonzero(comp.live[: comp.n] & comp.ready(kind))
        w_geo = (100.0 * side.weights[dim_pos(Dimension.COUNTRY), :nt]).astype(np.float32)
        w_amount = (100.0 * side.weights[dim_pos(Dimension.FUNDING_AMOUNT), :nt, None]).astype(np.float32)
        # 1 / bound, with a huge finite value for 0 so that 0 x it stays 0 (never NaN).
        inv_low = (1.0 / np.maximum(side.low[:nt], 1e-30)).astype(np.float32)
        inv_high = (1.0 / np.maximum(side.high[:nt], 1e-30)).astype(np.float32)
        currency = side.currency[:nt]
        for start in range(0, ready.size, block):
            slots = ready[start : start + block]
            members = comp.member[:, slots].astype(np.float32)  # K x companies
            multi = np.array(
                [i for i, s in enumerate(slots) if len(comp.codes[s][Dimension.COUNTRY]) > 1], dtype=np.intp
            )
            linear = members
            if multi.size:
                linear = members.copy()
                linear[geo.start : geo.stop, multi] = 0.0
            total = weighted @ linear  # targets x companies
            if multi.size:
                best = np.stack(
                    [side.credit[comp.codes[slots[i]][Dimension.COUNTRY], :nt].max(axis=0) for i in multi], axis=1
                )
                total[:, multi] += w_geo[:, None] * best.astype(np.float32)
            if investor:
                fit = _ticket_fit32(comp.amount[slots], comp.currency[slots], inv_low, inv_high, currency)
                if amount_required is not None and amount_required.size:
                    rows = total[amount_required]
                    rows[fit[amount_required] < 1.0] = -np.inf
                    total[amount_required] = rows
                fit *= w_amount
                total += fit
            for span, requiring, required_codes in exact:
                unmet = (required_codes @ members[span]) <= 0  # requiring targets x companies
                gated = total[requiring]
                gated[unmet] = -np.inf
                total[requiring] = gated
            total[dead] = -np.inf
            for i, s in enumerate(slots):
                owned = side.owned_by(comp.names[s])
                if owned:
                    total[owned, i] = -np.inf
            np.minimum(total, 100.0, out=total)
            yield slots, total.T

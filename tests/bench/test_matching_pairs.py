"""The bench's every-company-against-every-target scoring (bench/matching/pairs.py) agrees with the
scalar reference: eligible pairs score as `score_pair` (float32 products), gated pairs are -inf, and
companies the gates keep out of a kind (incomplete, not looking for funding) are not scored at all."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.matching.generate import Generator, seeded_taxonomy
from bench.matching.pairs import all_pairs
from devinsider_common.pages.names import PageKind
from matching_service.domain.gates import Gate, first_gate
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.scoring import score_pair
from matching_service.index.engine import MatchIndex
from matching_service.settings import MatchingSettings

COMPANY_GATES = {Gate.COMPANY_INCOMPLETE, Gate.NOT_LOOKING_FOR_FUNDING}


@pytest.mark.parametrize("kind", [PageKind.PROGRAM, PageKind.INVESTOR])
def test_every_pair_agrees_with_the_scalar_reference(kind: PageKind) -> None:
    taxonomy = seeded_taxonomy()
    weights = MatchingSettings(database_url="sqlite://").weights()
    gen = Generator(taxonomy, seed=3)
    companies = [gen.company(i) for i in range(40)]
    make = (lambda i: gen.program(i, len(companies))) if kind is PageKind.PROGRAM else gen.investor
    targets: list[tuple[CriteriaProfile, PageStatus]] = [make(i) for i in range(60)]
    index = MatchIndex(taxonomy, weights)
    for profile, status in companies:
        index.upsert(PageKind.COMPANY, profile.page.name, profile, status)
    for profile, status in targets:
        index.upsert(kind, profile.page.name, profile, status)
    slots_of = index.targets[kind].slots
    scored: set[str] = set()
    for slots, block in all_pairs(index, kind, block=16):  # several blocks
        for row, slot in enumerate(slots):
            name = index.companies.names[slot]
            scored.add(name)
            company, cstatus = next(c for c in companies if c[0].page.name == name)
            for target, tstatus in targets:
                reference = score_pair(taxonomy, company, target, weights[kind])
                gate = first_gate(cstatus, tstatus, company, blocked=False, required_unmet=reference.required_unmet)
                value = block[row, slots_of[target.page.name]]
                if gate is Gate.NONE:
                    assert math.isclose(value, reference.score, abs_tol=1e-3)  # float32 products
                else:
                    assert value == -np.inf, (name, target.page.name, gate)
    expected = set()
    for company, cstatus in companies:
        gates = {first_gate(cstatus, t, company, blocked=False, required_unmet=False) for _, t in targets if t.active}
        if cstatus.active and not gates & COMPANY_GATES:
            expected.add(company.page.name)
    assert scored == expected and scored

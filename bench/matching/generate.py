"""Synthetic criteria profiles for the matching benchmark, over the taxonomy the migrations seed.

Deterministic for a seed. Companies have one or two countries, a few industries and technologies,
one size/revenue/stage, a funding need (70% looking); programs and investors want a handful of
codes per dimension, some of them required, investors a ticket range.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from devinsider_common.db import migrations
from devinsider_common.db.engine import create_service_engine
from devinsider_common.pages.names import PageKind, PageName
from matching_service.adapters.taxonomy_repository import TaxonomyRepository
from matching_service.bootstrap import MIGRATIONS
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import Criteria, CriteriaProfile, FundingNeed, Money, TicketRange
from matching_service.domain.taxonomy import Dimension, Taxonomy


def seeded_taxonomy() -> Taxonomy:
    """The latest taxonomy, as migration 0001 seeds it (in a throwaway SQLite database)."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_service_engine(f"sqlite+pysqlite:///{Path(tmp) / 'bench.sqlite3'}", "matching")
        migrations.upgrade(engine, "matching", MIGRATIONS)
        with engine.connect() as connection:
            repository = TaxonomyRepository(connection)
            taxonomy = repository.get(repository.latest_version())
        engine.dispose()
    assert taxonomy is not None
    return taxonomy


class Generator:
    def __init__(self, taxonomy: Taxonomy, seed: int = 42) -> None:
        self.taxonomy = taxonomy
        self.rnd = random.Random(seed)
        self.codes = {d: [c.code for c in taxonomy.by_dimension[d]] for d in Dimension}
        self.countries = [c.code for c in taxonomy.by_dimension[Dimension.COUNTRY] if c.parent]
        self.regions = [c.code for c in taxonomy.by_dimension[Dimension.COUNTRY] if not c.parent]

    def _pick(self, dimension: Dimension, low: int, high: int) -> tuple[str, ...]:
        return tuple(self.rnd.sample(self.codes[dimension], self.rnd.randint(low, high)))

    def company(self, i: int) -> tuple[CriteriaProfile, PageStatus]:
        r = self.rnd
        page = PageName(PageKind.COMPANY, f"c{i:07d}")
        criteria = {
            Dimension.INDUSTRY: Criteria(self._pick(Dimension.INDUSTRY, 1, 3)),
            Dimension.TECHNOLOGY: Criteria(self._pick(Dimension.TECHNOLOGY, 1, 4)),
            Dimension.COUNTRY: Criteria(tuple(r.sample(self.countries, r.choice((1, 1, 1, 2, 3))))),
            Dimension.COMPANY_SIZE: Criteria(self._pick(Dimension.COMPANY_SIZE, 1, 1)),
            Dimension.REVENUE_RANGE: Criteria(self._pick(Dimension.REVENUE_RANGE, 1, 1)),
            Dimension.FUNDING_STAGE: Criteria(self._pick(Dimension.FUNDING_STAGE, 1, 1)),
            Dimension.BUSINESS_MODEL: Criteria(self._pick(Dimension.BUSINESS_MODEL, 1, 3)),
            Dimension.PARTNER_TYPE: Criteria(self._pick(Dimension.PARTNER_TYPE, 0, 3)),
        }
        need = FundingNeed(r.random() < 0.7, Money("EUR", r.randint(1, 200) * 50_000_00))
        status = PageStatus(
            page, active=r.random() < 0.97, program_complete=r.random() < 0.9, investor_complete=r.random() < 0.85
        )
        return CriteriaProfile(page, {d: c for d, c in criteria.items() if c.codes}, need), status

    def _target_criteria(self, dims: tuple[Dimension, ...]) -> dict[Dimension, Criteria]:
        r = self.rnd
        criteria = {}
        for dimension in dims:
            if r.random() < 0.25:
                continue  # left empty: does not count
            if dimension is Dimension.COUNTRY:
                codes = (
                    tuple(r.sample(self.regions, 1))
                    if r.random() < 0.3
                    else tuple(r.sample(self.countries, r.randint(1, 6)))
                )
            else:
                codes = self._pick(dimension, 1, 4 if dimension in (Dimension.INDUSTRY, Dimension.TECHNOLOGY) else 2)
            criteria[dimension] = Criteria(codes, r.random() < 0.08)
        return criteria

    def program(self, i: int, company_count: int) -> tuple[CriteriaProfile, PageStatus]:
        page = PageName(PageKind.PROGRAM, f"p{i:07d}")
        dims = (
            Dimension.INDUSTRY,
            Dimension.TECHNOLOGY,
            Dimension.COUNTRY,
            Dimension.COMPANY_SIZE,
            Dimension.REVENUE_RANGE,
            Dimension.PARTNER_TYPE,
            Dimension.BUSINESS_MODEL,
        )
        vendor = f"companies/c{self.rnd.randrange(company_count):07d}" if self.rnd.random() < 0.05 else ""
        status = PageStatus(page, active=self.rnd.random() < 0.9, vendor_company=vendor)
        return CriteriaProfile(page, self._target_criteria(dims)), status

    def investor(self, i: int) -> tuple[CriteriaProfile, PageStatus]:
        r = self.rnd
        page = PageName(PageKind.INVESTOR, f"i{i:07d}")
        dims = (
            Dimension.INDUSTRY,
            Dimension.TECHNOLOGY,
            Dimension.COUNTRY,
            Dimension.FUNDING_STAGE,
            Dimension.REVENUE_RANGE,
            Dimension.BUSINESS_MODEL,
        )
        low = r.randint(1, 100) * 50_000_00
        ticket = TicketRange(Money("EUR", low), Money("EUR", low * r.randint(2, 10)), r.random() < 0.1)
        return CriteriaProfile(page, self._target_criteria(dims), None, ticket), PageStatus(
            page, active=r.random() < 0.95
        )

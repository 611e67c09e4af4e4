"""Matching benchmark: one company against 100k programs / 100k investors, and all pairs 10k x 10k,
each against a plain Python loop over the scalar reference measured in the same run.

    .venv/bin/python -m bench.matching.run [--targets 100000] [--companies 10000] [--pairs-targets 10000]

The plain loop scores a random sample of pairs (gates + `score_pair`) and is extrapolated linearly
to the full workload; the report says so. No number here is asserted by any test.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from collections.abc import Sequence

import numpy as np

from bench.matching.generate import Generator, seeded_taxonomy
from bench.matching.pairs import all_pairs
from devinsider_common.pages.names import PageKind
from matching_service.domain.gates import Gate, first_gate
from matching_service.domain.pages import PageStatus
from matching_service.domain.profile import CriteriaProfile
from matching_service.domain.scoring import Weights, score_pair
from matching_service.domain.taxonomy import Taxonomy
from matching_service.index.engine import MatchIndex, Query
from matching_service.settings import MatchingSettings


def python_loop_seconds_per_pair(
    taxonomy: Taxonomy,
    weights: Weights,
    companies: Sequence[tuple[CriteriaProfile, PageStatus]],
    targets: Sequence[tuple[CriteriaProfile, PageStatus]],
    samples: int,
    rnd: random.Random,
) -> float:
    pairs = [(rnd.choice(companies), rnd.choice(targets)) for _ in range(samples)]
    start = time.perf_counter()
    for (company, cstatus), (target, tstatus) in pairs:
        scored = score_pair(taxonomy, company, target, weights)
        gate = first_gate(cstatus, tstatus, company, blocked=False, required_unmet=scored.required_unmet)
        _ = scored.score if gate is Gate.NONE else 0.0
    return (time.perf_counter() - start) / samples


def build(index: MatchIndex, kind: PageKind, rows: list[tuple[CriteriaProfile, PageStatus]]) -> float:
    start = time.perf_counter()
    for profile, status in rows:
        index.upsert(kind, profile.page.name, profile, status)
    return time.perf_counter() - start


def one_against_many(index: MatchIndex, kind: PageKind, companies: list[str], repeats: int) -> list[float]:
    index.rank_targets(companies[0], kind, Query(limit=50))  # warm-up (name ranks are built once)
    times = []
    for name in companies[:repeats]:
        start = time.perf_counter()
        index.rank_targets(name, kind, Query(limit=50))
        times.append(time.perf_counter() - start)
    return times


def every_pair(index: MatchIndex, kind: PageKind) -> tuple[float, float, int, int]:
    """(seconds scoring every pair, seconds scoring + reducing each block, pairs, eligible pairs)."""
    start = time.perf_counter()
    for _ in all_pairs(index, kind):
        pass
    scoring = time.perf_counter() - start
    start = time.perf_counter()
    pairs = eligible = 0
    for _, scores in all_pairs(index, kind):
        by_target = scores.T  # the contiguous layout
        pairs += by_target.size
        eligible += int(np.count_nonzero(by_target > 0))
        by_target.argmax(axis=0)  # best target per company: what a digest would keep
    return scoring, time.perf_counter() - start, pairs, eligible


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--pairs-targets", type=int, default=10_000)
    parser.add_argument("--loop-samples", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--pairs-only", action="store_true", help="skip the one-against-100k part")
    args = parser.parse_args()
    taxonomy = seeded_taxonomy()
    weights = MatchingSettings().weights()
    gen = Generator(taxonomy)
    rnd = random.Random(7)
    t0 = time.perf_counter()
    companies = [gen.company(i) for i in range(args.companies)]
    programs = [gen.program(i, args.companies) for i in range(args.targets)]
    investors = [gen.investor(i) for i in range(args.targets)]
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"generated {args.companies} companies, {args.targets} programs, {args.targets} investors "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    index = MatchIndex(taxonomy, weights)
    build_s = build(index, PageKind.COMPANY, companies)
    build_s += build(index, PageKind.PROGRAM, programs) + build(index, PageKind.INVESTOR, investors)
    print(f"index build (upserts one by one): {build_s:.1f} s")
    ready = [
        c.page.name
        for c, s in companies
        if s.active
        and s.program_complete
        and s.investor_complete
        and c.funding_need
        and c.funding_need.looking_for_funding
    ]
    rnd.shuffle(ready)

    print(f"\n== one company against all targets (rank + page of 50; median / p90 over {args.repeats} companies)")
    for kind, targets in () if args.pairs_only else ((PageKind.PROGRAM, programs), (PageKind.INVESTOR, investors)):
        times = one_against_many(index, kind, ready, args.repeats)
        median, p90 = statistics.median(times), sorted(times)[int(0.9 * len(times)) - 1]
        loop = python_loop_seconds_per_pair(taxonomy, weights[kind], companies, targets, args.loop_samples // 4, rnd)
        loop_total = loop * len(targets)
        print(
            f"{kind.name.lower():9s} x {len(targets)}: index {median * 1e3:7.2f} ms (p90 {p90 * 1e3:.2f} ms) | "
            f"plain loop {loop_total * 1e3:9.0f} ms (sampled {args.loop_samples // 4} pairs, "
            f"{loop * 1e6:.1f} us/pair, extrapolated) | ratio {loop_total / median:,.0f}x"
        )

    print(f"\n== all pairs {args.companies} companies x {args.pairs_targets} targets")
    for kind, targets in ((PageKind.PROGRAM, programs), (PageKind.INVESTOR, investors)):
        sub = MatchIndex(taxonomy, weights)
        build(sub, PageKind.COMPANY, companies)
        build(sub, kind, targets[: args.pairs_targets])
        next(iter(all_pairs(sub, kind)))  # warm-up
        seconds, reduced, pairs, eligible = every_pair(sub, kind)
        loop = python_loop_seconds_per_pair(
            taxonomy, weights[kind], companies, targets[: args.pairs_targets], args.loop_samples, rnd
        )
        loop_total = loop * args.companies * args.pairs_targets
        print(
            f"{kind.name.lower():9s}: index {seconds:6.2f} s for {pairs:,} pairs ({eligible:,} eligible > 0; "
            f"{reduced:.2f} s with a count and the best target per company) | "
            f"plain loop {loop_total:8.0f} s (sampled {args.loop_samples} pairs, {loop * 1e6:.1f} us/pair, "
            f"extrapolated) | ratio {loop_total / seconds:,.0f}x"
        )


if __name__ == "__main__":
    main()

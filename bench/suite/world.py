"""The suite bench's data, seeded through the edge (bench/load/seed.py): the showcase company, an
investor that unlocked it (with credits bought from staff, as tests/e2e grants them) and one that did not,
companies to edit and to unlock or favorite, and investors to spend: a set per pass of the writes, since
an unlock or a favorite is made once per pair (a repeat would measure the idempotent path)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load.seed import Page, edge_call, seed
from bench.suite.targets import Scenario, Write

PROGRAMS = 5
UNLOCK_VISIBLE_SECONDS = 30.0  # billing's event, the relay and company's projection


@dataclass(frozen=True)
class World:
    scenario: Scenario
    spenders: list[Page]  # investors: `workers` per pass of the writes
    counter: Page  # the investor of the counting pass's writes

    def actors(self, write: Write, workers: int, rank: int) -> list[Page]:
        """The pages the `rank`-th pass of `write` acts as, one per worker (companies edit their own
        page again in every pass; investors are fresh in each)."""
        if write.actor == "company":
            return self.scenario.editors[:workers]
        return self.spenders[rank * workers : (rank + 1) * workers]

    def counting_actor(self, write: Write) -> Page:
        """The page the counting pass's calls of `write` act as."""
        return self.scenario.editors[0] if write.actor == "company" else self.counter


def build(edge_url: str, keys: Path, issuer: str, *, workers: int, targets: int, passes: int) -> World:
    """`targets` distinct pages to unlock and favorite, enough investors for `passes` passes of
    `workers` workers, and the counting pass's."""
    companies = 1 + max(targets, workers)
    seeded = seed(edge_url, keys, issuer, companies, 3 + passes * workers, PROGRAMS)
    showcase, others = seeded.companies[0], seeded.companies[1:]
    unlocker, stranger, counter, *spenders = seeded.investors
    _unlock(edge_url, unlocker, showcase)
    view = _wait_unlocked(edge_url, showcase, unlocker)
    scenario = Scenario(
        showcase=showcase,
        unlocker=unlocker,
        stranger=stranger,
        industry=view["industries"][0],
        country=view["hqCountryCode"],
        editors=others[:workers],
        targets=others[:targets],
    )
    return World(scenario, spenders, counter)


def _unlock(edge_url: str, spender: Page, target: Page) -> None:
    body = {"target": {"kind": "PAGE_KIND_COMPANY", "name": target.name}}
    edge_call(edge_url, "POST", f"/v1/{spender.name}/unlocks?requestId={uuid.uuid4().hex}", body, spender.token)


def _wait_unlocked(edge_url: str, page: Page, viewer: Page) -> dict[str, Any]:
    """The page as the owner of the investor that unlocked it sees it, once the unlock is projected."""
    deadline = time.monotonic() + UNLOCK_VISIBLE_SECONDS
    while True:
        view = edge_call(edge_url, "GET", f"/v1/{page.name}", None, viewer.token)
        if view.get("viewerHasFullAccess"):
            return view
        if time.monotonic() > deadline:
            raise RuntimeError(f"the unlock of {page.name} was not visible after {UNLOCK_VISIBLE_SECONDS} s")
        time.sleep(0.1)

"""Drafts about matches (matching's MatchFound): both sides' members see the other page in the app, and
the match waits for their digest mail (`digest.py`); a match is never mailed alone."""

from __future__ import annotations

from devinsider_common.pages.names import PageName
from notification_service.domain import facts
from notification_service.domain.drafting import Context, Targeted
from notification_service.domain.notifications import Audience, DigestEntry, Draft
from notification_service.domain.preferences import Category


def match_found(ctx: Context, event: facts.MatchFound) -> Targeted:
    company = ctx.title(event.company, event.company_display_name)
    target = ctx.title(event.target, event.target_display_name)
    pair = f"{event.company.name}|{event.target.name}"
    return [
        (Audience.members(event.company), _draft(pair, event.company, company, event.target, target, event.score)),
        (Audience.members(event.target), _draft(pair, event.target, target, event.company, company, event.score)),
    ]


def _draft(pair: str, own: PageName, own_title: str, other: PageName, other_title: str, score: float) -> Draft:
    shown = f"{score:.0f}"
    return Draft(
        key=f"match.found:{pair}",
        category=Category.MATCHES,
        kind="match.found",
        title=f"New match for {own_title}: {other_title}",
        body=f"{other_title} matches {own_title} at {shown}/100.",
        page=own.name,
        resource=other.name,
        params={"match_display_name": other_title, "score": shown},
        digest=DigestEntry(other.name, other_title, own_title, score),
    )

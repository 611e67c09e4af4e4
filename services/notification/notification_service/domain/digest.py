"""The match digest: one mail per user and period listing the matches found before the period's digest
time, never a mail per match.

A daily digest time is DIGEST_HOUR_UTC every day; a weekly one, that hour on Mondays. A run of the job
after it mails, for each user, the matches they got before the latest digest time of their frequency
and removes them: later runs of the same period find none left before that time, so a user gets one
mail per period at most, whenever and however often the job runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from notification_service.domain.drafting import Links
from notification_service.domain.notifications import MailDraft
from notification_service.domain.preferences import DigestFrequency

TEMPLATE = "notification_match_digest"
MAX_LISTED = 50  # a longer digest lists the best ones and links to the rest


@dataclass(frozen=True)
class DigestItem:
    recipient: str
    key: str  # the match's delivery key (`match.found:{company}|{target}`)
    page: str  # the recipient's page
    page_display_name: str
    match: str  # the other page
    match_display_name: str
    score: float
    created_at: datetime


def latest_digest_time(now: datetime, frequency: DigestFrequency, hour: int) -> datetime:
    """The latest digest time at or before `now` for `frequency` (DAILY or WEEKLY)."""
    day = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if day > now:
        day -= timedelta(days=1)
    if frequency is DigestFrequency.WEEKLY:
        day -= timedelta(days=day.weekday())  # back to Monday
    return day


def digest_mail(items: list[DigestItem], frequency: DigestFrequency, links: Links) -> MailDraft:
    """The digest of `items` (best scores first)."""
    best = sorted(items, key=lambda i: (-i.score, i.match))[:MAX_LISTED]
    listed = [
        {
            "page_display_name": item.page_display_name,
            "match_display_name": item.match_display_name,
            "score": f"{item.score:.0f}",
            "link": links.to(item.match),
        }
        for item in best
    ]
    variables = {
        "period": "weekly" if frequency is DigestFrequency.WEEKLY else "daily",
        "match_count": str(len(items)),
        "matches": json.dumps(listed, separators=(",", ":")),
        "link": links.to("matches"),
        "preferences_url": links.preferences,
    }
    return MailDraft(TEMPLATE, variables)

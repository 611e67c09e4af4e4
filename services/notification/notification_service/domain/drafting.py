"""What the drafts of every source share: links into the web app, page titles, the mail of a draft.

Mails go out from here only for what no other service mails already: invitations (the page services
mail the invitee the one-time link), applications (the program service mails both sides), refused
payments and receipts (billing mails the buyer) are in-app only. Matches are never mailed one by one:
they wait for the digest (`digest.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devinsider_common.pages.names import PageName
from notification_service.domain.notifications import Audience, Draft, MailDraft

Titles = Callable[[PageName], str]  # a page's display name, as far as known ("" otherwise)
Targeted = list[tuple[Audience, Draft]]


@dataclass(frozen=True)
class Links:
    """Where the web app shows a resource: `{app_url}/{resource name}`."""

    app_url: str

    def to(self, resource: str) -> str:
        return f"{self.app_url.rstrip('/')}/{resource}"

    @property
    def preferences(self) -> str:
        return self.to("settings/notifications")


@dataclass(frozen=True)
class Context:
    links: Links
    titles: Titles
    # UnlockCreated leaving the unlocker this many credits or fewer notifies its managers (billing).
    credits_low_threshold: int = 1

    def title(self, page: PageName, known: str = "") -> str:
        """A page's display name: the event's, else the projection's, else its kind."""
        article = "an" if page.kind.label[0] in "aeiou" else "a"
        return known or self.titles(page) or f"{article} {page.kind.label} page"

    def mail(self, template: str, link: str, only: frozenset[str] | None = None, **variables: str) -> MailDraft:
        """A notification mail: its variables, the link to open, where to change the preferences."""
        return MailDraft(template, {**variables, "link": link, "preferences_url": self.links.preferences}, only)

"""Drafts about pages: unlocks (and credits running low), invitations, program applications."""

from __future__ import annotations

from notification_service.domain import facts
from notification_service.domain.drafting import Context, Targeted
from notification_service.domain.notifications import MANAGERS, Audience, Draft
from notification_service.domain.preferences import Category


def unlock(ctx: Context, event: facts.UnlockCreated) -> Targeted:
    """The target's members learn who unlocked their page; the unlocker's managers, that credits run low."""
    target, unlocker = ctx.title(event.target), ctx.title(event.unlocker)
    received = Draft(
        key=f"unlock.received:{event.unlock}",
        category=Category.UNLOCKS,
        kind="unlock.received",
        title=f"{unlocker} unlocked {target}",
        body=f"{unlocker} can now see the contact details of {target} and may get in touch.",
        page=event.target.name,
        resource=event.unlocker.name,
        params={"unlock": event.unlock, "unlocker_display_name": unlocker},
        mail=ctx.mail(
            "notification_unlock_received",
            ctx.links.to(event.unlocker.name),
            page_display_name=target,
            unlocker_display_name=unlocker,
        ),
    )
    drafts: Targeted = [(Audience.members(event.target), received)]
    if event.balance <= ctx.credits_low_threshold:
        low = Draft(
            key=f"billing.credits_low:{event.unlock}",
            category=Category.BILLING,
            kind="billing.credits_low",
            title=f"{unlocker} is running low on credits",
            body=f"{unlocker} has {event.balance} credit(s) left for unlocks.",
            page=event.unlocker.name,
            resource=event.unlock,
            params={"balance": str(event.balance)},
            mail=ctx.mail(
                "notification_credits_low",
                ctx.links.to(f"{event.unlocker.name}/billing"),
                page_display_name=unlocker,
                balance=str(event.balance),
            ),
        )
        drafts.append((Audience.members(event.unlocker, MANAGERS), low))
    return drafts


def invitation(ctx: Context, event: facts.InvitationSent, invitee: str) -> Targeted:
    """A known user invited to a page sees it in the app (the page service mails the link)."""
    page, role = ctx.title(event.page, event.page_display_name), event.role.name.lower()
    draft = Draft(
        key=f"invitation.received:{event.invitation}",
        category=Category.INVITATIONS,
        kind="invitation.received",
        title=f"You are invited to join {page}",
        body=f"You are invited to join {page} as {role}: the invitation mail has the link to accept it.",
        page="",
        resource=event.invitation,
        params={"page": event.page.name, "page_display_name": page, "role": role},
    )
    return [(Audience(user=invitee), draft)]


# state -> (kind, whether the program's members are told (else the company's), title, body)
_APPLICATIONS = {
    "pending": (
        "application.received",
        True,
        "{company} applied to {program}",
        "Review it with the other applications.",
    ),
    "withdrawn": (
        "application.withdrawn",
        True,
        "{company} withdrew its application to {program}",
        "Nothing to decide.",
    ),
    "approved": (
        "application.approved",
        False,
        "{program} approved the application of {company}",
        "{company} is now a member company of {program}.",
    ),
    "rejected": ("application.rejected", False, "{program} declined the application of {company}", "{reason}"),
}


def application(ctx: Context, event: facts.ApplicationChanged) -> Targeted:
    """The program's members learn of a new or withdrawn application, the company's of a decision."""
    known = _APPLICATIONS.get(event.state)
    if known is None:
        return []
    kind, to_program, title, body = known
    program = ctx.title(event.program, event.program_display_name)
    company = ctx.title(event.company, event.company_display_name)
    reason = f"Reason: {event.rejection_reason}" if event.rejection_reason else "No reason was given."
    values = {"program": program, "company": company, "reason": reason}
    page = event.program if to_program else event.company
    draft = Draft(
        key=f"{kind}:{event.application}",
        category=Category.APPLICATIONS,
        kind=kind,
        title=title.format_map(values),
        body=body.format_map(values),
        page=page.name,
        resource=event.application,
        params={"program_display_name": program, "company_display_name": company, "reason": event.rejection_reason},
    )
    return [(Audience.members(page), draft)]

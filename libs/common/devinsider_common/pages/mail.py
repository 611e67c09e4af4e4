"""The invitation mail every page service sends: the same template variables everywhere."""

from __future__ import annotations

from urllib.parse import urlencode

from devinsider_common.clock import as_utc
from devinsider_common.pages.model import Invitation, Member


def invitation_mail_variables(
    invitation: Invitation, name: str, token: str, page_title: str, inviter: Member, accept_url: str
) -> dict[str, str]:
    """Variables of the `<page>_invitation` template; `name` is the invitation's resource name, which
    the accept link carries with the mailed token."""
    return {
        "page_display_name": page_title,
        "inviter_name": inviter.display_name or inviter.email,
        "role": invitation.role.name.lower(),
        "accept_url": f"{accept_url}?{urlencode({'invitation': name, 'token': token})}",
        "expire_time": as_utc(invitation.expires_at).isoformat(),
        "message": invitation.message,
    }

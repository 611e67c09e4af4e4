"""Member and Invitation messages: every page service's proto has the same fields, so one mapping
serves all three (the message class and the collection are the parameters)."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from devinsider_common.clock import as_utc
from devinsider_common.pages.model import Invitation, Member

M = TypeVar("M")


def _stamp(message: Any, field: str, value: Any) -> None:
    if value is not None:
        getattr(message, field).FromDatetime(as_utc(value))


def member_name(collection: str, member: Member) -> str:
    return f"{collection}/{member.page_id}/members/{member.id}"


def invitation_name(collection: str, invitation: Invitation) -> str:
    return f"{collection}/{invitation.page_id}/invitations/{invitation.id}"


def member_to_proto(member: Member, message_class: type[M], collection: str) -> M:
    message: Any = cast(Any, message_class)(
        name=member_name(collection, member),
        user=member.user,
        subject=member.subject,
        display_name=member.display_name,
        email=member.email,
        role=int(member.role),
    )
    _stamp(message, "create_time", member.created_at)
    _stamp(message, "update_time", member.updated_at)
    return message  # type: ignore[no-any-return]


def invitation_to_proto(invitation: Invitation, message_class: type[M], collection: str, page_title: str = "") -> M:
    message: Any = cast(Any, message_class)(
        name=invitation_name(collection, invitation),
        email=invitation.email,
        role=int(invitation.role),
        message=invitation.message,
        state=int(invitation.state),
        inviter=invitation.inviter,
        page_display_name=page_title,
        member=f"{collection}/{invitation.page_id}/members/{invitation.member_id}" if invitation.member_id else "",
    )
    _stamp(message, "create_time", invitation.created_at)
    _stamp(message, "expire_time", invitation.expires_at)
    _stamp(message, "close_time", invitation.closed_at)
    return message  # type: ignore[no-any-return]

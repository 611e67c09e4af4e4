"""Domain objects -> proto messages (responses and event payloads)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2

from devinsider.user.v1 import user_pb2
from devinsider_common.clock import as_utc
from user_service.domain.blacklist import BlacklistEntry, BlacklistKind
from user_service.domain.model import User, UserState
from user_service.domain.requests import ProVerification, ProVerificationState, SupportRequest

USER_STATES = {UserState.ACTIVE: user_pb2.USER_STATE_ACTIVE, UserState.DELETED: user_pb2.USER_STATE_DELETED}
PRO_STATES = {
    ProVerificationState.PENDING: user_pb2.PRO_VERIFICATION_STATE_PENDING,
    ProVerificationState.APPROVED: user_pb2.PRO_VERIFICATION_STATE_APPROVED,
    ProVerificationState.REJECTED: user_pb2.PRO_VERIFICATION_STATE_REJECTED,
}
BLACKLIST_KINDS = {
    BlacklistKind.USER: user_pb2.BLACKLIST_KIND_USER,
    BlacklistKind.EMAIL_DOMAIN: user_pb2.BLACKLIST_KIND_EMAIL_DOMAIN,
}


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(as_utc(value))
    return stamp


def user_to_proto(user: User, *, private: bool) -> user_pb2.User:
    """The user as its owner, staff and services see it (`private`), or its public fields only."""
    message = user_pb2.User(
        name=user.name,
        given_name=user.profile.given_name,
        family_name=user.profile.family_name,
        job_title=user.profile.job_title,
        country_code=user.profile.country_code,
        linkedin_url=user.profile.linkedin_url,
        biography=user.profile.biography,
        contact_category=int(user.profile.contact_category),  # type: ignore[arg-type]
        verified_pro=user.verified_pro,
        state=USER_STATES[user.state],
        create_time=timestamp(user.created_at),
        update_time=timestamp(user.updated_at),
    )
    if private:
        message.subject = user.subject
        message.email = user.email
        message.phone_number = user.profile.phone_number
        message.roles.extend(user.roles)
        message.email_verified = user.email_verified
        message.disabled = user.disabled
        if user.last_login_at is not None:
            message.last_login_time.FromDatetime(as_utc(user.last_login_at))
    return message


def pro_verification_to_proto(request: ProVerification) -> user_pb2.ProVerification:
    return user_pb2.ProVerification(
        name=request.name,
        user=f"users/{request.user_id}",
        work_email=request.work_email,
        company_name=request.company_name,
        evidence_url=request.evidence_url,
        message=request.message,
        state=PRO_STATES[request.state],
        rejection_reason=request.rejection_reason,
        reviewer=request.reviewer,
        create_time=timestamp(request.created_at),
        decide_time=timestamp(request.decided_at),
    )


def support_request_to_proto(request: SupportRequest) -> user_pb2.SupportRequest:
    return user_pb2.SupportRequest(
        name=request.name,
        user=f"users/{request.user_id}",
        subject=request.subject,
        message=request.message,
        create_time=timestamp(request.created_at),
    )


def blacklist_entry_to_proto(entry: BlacklistEntry) -> user_pb2.BlacklistEntry:
    return user_pb2.BlacklistEntry(
        name=entry.name,
        kind=BLACKLIST_KINDS[entry.kind],
        value=entry.value,
        reason=entry.reason,
        creator=entry.creator,
        create_time=timestamp(entry.created_at),
    )

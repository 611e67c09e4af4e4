"""Keycloak events, as p2-inc/keycloak-events sends them or in Keycloak's own shape. No I/O.

p2-inc: `type` is `access.REGISTER` or `admin.USER-CREATE`, the acting user in
`authDetails.userId`. Keycloak's EventRepresentation: `type` `REGISTER`, `userId`;
AdminEventRepresentation: `operationType` + `resourceType`. In admin events the affected user
is the one in `resourcePath` (`users/{id}`), never the admin who acted.

LOGIN and VERIFY_EMAIL are facts about the account, not profile changes: they carry no profile, so
they are not ordered against the profile events (`KeycloakEvent.changes_profile`).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devinsider_common import errors


class KeycloakEventKind(enum.StrEnum):
    REGISTER = "REGISTER"
    UPDATE_PROFILE = "UPDATE_PROFILE"
    UPDATE_EMAIL = "UPDATE_EMAIL"
    DELETE_ACCOUNT = "DELETE_ACCOUNT"
    LOGIN = "LOGIN"
    VERIFY_EMAIL = "VERIFY_EMAIL"
    ADMIN_USER_CREATE = "ADMIN_USER_CREATE"
    ADMIN_USER_UPDATE = "ADMIN_USER_UPDATE"
    ADMIN_USER_DELETE = "ADMIN_USER_DELETE"
    IGNORED = "IGNORED"


_ADMIN_OPERATIONS = {
    "CREATE": KeycloakEventKind.ADMIN_USER_CREATE,
    "UPDATE": KeycloakEventKind.ADMIN_USER_UPDATE,
    "DELETE": KeycloakEventKind.ADMIN_USER_DELETE,
}


@dataclass(frozen=True)
class KeycloakEvent:
    id: str
    kind: KeycloakEventKind
    raw_type: str
    time: datetime
    subject: str
    email: str = ""
    given_name: str = ""
    family_name: str = ""
    # An admin event's `emailVerified` and `enabled` (false: an admin disabled the user); None when the
    # event does not say.
    email_verified: bool | None = None
    enabled: bool | None = None

    @property
    def deletes(self) -> bool:
        return self.kind in {KeycloakEventKind.DELETE_ACCOUNT, KeycloakEventKind.ADMIN_USER_DELETE}

    @property
    def changes_profile(self) -> bool:
        """Whether the event writes the profile (names, e-mail, state), so it must not undo a newer one."""
        return self.kind not in {KeycloakEventKind.LOGIN, KeycloakEventKind.VERIFY_EMAIL, KeycloakEventKind.IGNORED}


def _kind(payload: dict[str, Any]) -> tuple[KeycloakEventKind, str]:
    raw = str(payload.get("type") or "")
    if raw.startswith("admin.") or "operationType" in payload:
        operation = raw.removeprefix("admin.").removeprefix("USER-") if raw else str(payload.get("operationType"))
        resource = "USER" if raw.startswith("admin.USER-") else str(payload.get("resourceType") or "")
        if resource == "USER" and operation in _ADMIN_OPERATIONS:
            return _ADMIN_OPERATIONS[operation], raw or f"admin.USER-{operation}"
        return KeycloakEventKind.IGNORED, raw or str(payload.get("operationType"))
    name = raw.removeprefix("access.")
    if name in KeycloakEventKind.__members__ and not name.startswith("ADMIN"):
        return KeycloakEventKind(name), raw
    return KeycloakEventKind.IGNORED, raw


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def _representation(payload: dict[str, Any]) -> dict[str, Any]:
    value = payload.get("representation")
    if isinstance(value, str) and value:
        try:
            value = json.loads(value)
        except ValueError as error:
            raise errors.InvalidArgument.for_field("representation", "is not JSON") from error
    return value if isinstance(value, dict) else {}


def _subject(payload: dict[str, Any], kind: KeycloakEventKind) -> str:
    if kind.name.startswith("ADMIN"):
        path = str(payload.get("resourcePath") or "")
        return path.removeprefix("users/") if path.startswith("users/") else ""
    auth = _object(payload, "authDetails")
    return str(payload.get("userId") or auth.get("userId") or "")


def parse_keycloak_event(body: bytes) -> KeycloakEvent:
    """Parse a webhook body; INVALID_ARGUMENT names what is missing or malformed."""
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise errors.InvalidArgument.for_field("body", "is not valid JSON") from error
    if not isinstance(payload, dict):
        raise errors.InvalidArgument.for_field("body", "must be a JSON object")
    event_id, millis = payload.get("id"), payload.get("time")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 128:
        raise errors.InvalidArgument.for_field("id", "is required (a string of at most 128 characters)")
    if not isinstance(millis, int) or isinstance(millis, bool) or millis <= 0:
        raise errors.InvalidArgument.for_field("time", "is required (milliseconds since the epoch)")
    kind, raw_type = _kind(payload)
    subject = _subject(payload, kind)
    if kind is not KeycloakEventKind.IGNORED and not subject:
        raise errors.InvalidArgument.for_field("userId", f"no affected user in a {raw_type} event")
    details = _object(payload, "details")
    rep = _representation(payload)
    verified, enabled = rep.get("emailVerified"), rep.get("enabled")
    return KeycloakEvent(
        id=event_id,
        kind=kind,
        raw_type=raw_type,
        time=datetime.fromtimestamp(millis / 1000, tz=UTC),
        subject=subject,
        email=str(details.get("updated_email") or details.get("email") or rep.get("email") or "").lower(),
        given_name=str(details.get("first_name") or rep.get("firstName") or ""),
        family_name=str(details.get("last_name") or rep.get("lastName") or ""),
        email_verified=verified if isinstance(verified, bool) else None,
        enabled=enabled if isinstance(enabled, bool) else None,
    )

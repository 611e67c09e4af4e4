"""AIP-134 update masks: which fields of a resource an Update request may change."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message

from devinsider_common import errors

FULL_REPLACEMENT = "*"


def resolve_update_mask(
    mask: field_mask_pb2.FieldMask | None, resource: Message, updatable: Iterable[str], resource_field: str
) -> frozenset[str]:
    """The set of field paths to update.

    - An explicit mask is taken as is: unknown or immutable paths are an INVALID_ARGUMENT naming the
      path, never silently ignored.
    - `*` is a full replacement: every updatable field, the ones absent from `resource` cleared.
    - No mask, or an empty one, means the updatable fields populated in `resource` (AIP-134), so a
      client sending only what it changes never wipes the rest. Output-only and immutable fields in
      the body are ignored there (AIP-203). Proto3 cannot tell a field at its default value (`""`,
      `0`, `false`, `[]`) from an absent one: clearing a field needs it named in the mask.
    - If that leaves nothing to update, the request is an INVALID_ARGUMENT on `update_mask` rather
      than a silent no-op, so a client that meant to clear a field learns it must name it.
    """
    allowed = frozenset(updatable)
    paths = list(mask.paths) if mask is not None else []
    if paths == [FULL_REPLACEMENT]:
        return allowed
    if not paths:
        implied = populated_paths(resource, allowed)
        if not implied:
            raise errors.InvalidArgument.for_field(
                "update_mask",
                f"the {resource_field} carries no field to update: send the new values, and name the"
                " fields to clear in update_mask",
            )
        return implied
    violations = errors.Violations()
    for path in paths:
        violations.check(
            path in allowed, f"update_mask.paths[{path}]", f"`{path}` cannot be updated on {resource_field}"
        )
    violations.raise_if_any("invalid update_mask")
    return frozenset(paths)


def populated_paths(message: Message, allowed: frozenset[str], prefix: str = "") -> frozenset[str]:
    """The `allowed` paths populated in `message`, as deep as `allowed` names them.

    A populated sub-message whose own fields are allowed paths (`contact.email`) contributes the
    sub-fields it carries, so `{"contact": {"email": …}}` leaves the other contact fields alone;
    one carried empty (`{"contact": {}}`), or whose fields are not paths of their own, counts as a
    whole.
    """
    found: set[str] = set()
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        singular_message = field.message_type is not None and not field.is_repeated
        if singular_message and value.ListFields() and any(a.startswith(f"{path}.") for a in allowed):
            found |= populated_paths(value, allowed, f"{path}.")
        elif path in allowed:
            found.add(path)
    return frozenset(found)


def json_path(path: str) -> str:
    """A field path as proto3 JSON names it (`financials.funding_target` -> `financials.fundingTarget`).

    For paths a response reports to clients, who see the lowerCamelCase names of the REST edge.
    """
    return field_mask_pb2.FieldMask(paths=[path]).ToJsonString()

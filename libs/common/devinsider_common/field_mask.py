"""AIP-134 update masks: which fields of a resource an Update request may change."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import field_mask_pb2

from devinsider_common import errors


def resolve_update_mask(
    mask: field_mask_pb2.FieldMask | None, updatable: Iterable[str], resource_field: str
) -> frozenset[str]:
    """The set of field paths to update; an empty mask or `*` means every updatable field.

    Unknown or immutable paths are an INVALID_ARGUMENT naming the path, never silently ignored.
    """
    allowed = frozenset(updatable)
    paths = list(mask.paths) if mask is not None else []
    if not paths or paths == ["*"]:
        return allowed
    violations = errors.Violations()
    for path in paths:
        violations.check(
            path in allowed, f"update_mask.paths[{path}]", f"`{path}` cannot be updated on {resource_field}"
        )
    violations.raise_if_any("invalid update_mask")
    return frozenset(paths)

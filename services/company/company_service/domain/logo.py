"""Logo images: the declared content type must be what the bytes are (magic numbers). No I/O."""

from __future__ import annotations

import re

from devinsider_common.errors import Violations

PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
SVG = "image/svg+xml"
ACCEPTED = (PNG, JPEG, WEBP, SVG)

# Active content in an SVG would run in the viewer's browser when the logo is opened directly.
_SVG_ACTIVE = re.compile(rb"<script|javascript:|<foreignobject|\son[a-z]+\s*=", re.IGNORECASE)


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if (head.startswith((b"<?xml", b"<svg", b"<!--")) or head.startswith(b"<!doctype svg")) and b"<svg" in head:
        return SVG
    return None


def check_logo(content_type: str, data: bytes, max_bytes: int) -> str:
    """The normalised content type of an acceptable logo; INVALID_ARGUMENT naming `body.*` otherwise."""
    declared = content_type.split(";", 1)[0].strip().lower()
    checks = Violations()
    if declared not in ACCEPTED:
        checks.add("body.content_type", f"must be one of {', '.join(ACCEPTED)}")
    if not data:
        checks.add("body.data", "is required")
    elif len(data) > max_bytes:
        checks.add("body.data", f"must be at most {max_bytes} bytes")
    else:
        actual = sniff(data)
        if actual is None:
            checks.add("body.data", "is not a PNG, JPEG, WebP or SVG image")
        elif declared in ACCEPTED and actual != declared:
            checks.add("body.content_type", f"says {declared} but the data is {actual}")
        elif actual == SVG and _SVG_ACTIVE.search(data):
            checks.add("body.data", "SVG logos must not contain scripts or event handlers")
    checks.raise_if_any("invalid logo")
    return declared

"""Codes of the criteria taxonomy that services other than matching check without calling it.

The matching service owns the taxonomy: its migrations seed each version and `GET /v1/taxonomy`
serves it. Page services validate the codes the API documents as taxonomy codes against this
list, so an invented code is refused on the spot; matching's tests hold it equal to the latest
seeded version, so a migration that changes the industries must change this list too.
"""

from __future__ import annotations

# The `industry` dimension (devinsider.matching.v1.DIMENSION_INDUSTRY).
INDUSTRY_CODES: frozenset[str] = frozenset(
    {
        "fintech",
        "insurtech",
        "healthtech",
        "edtech",
        "retail",
        "manufacturing",
        "logistics",
        "energy",
        "telecom",
        "media",
        "public_sector",
        "real_estate",
        "agriculture",
        "automotive",
        "travel",
        "legal",
        "hr",
        "gaming",
        "nonprofit",
        "professional_services",
        "chemicals",
        "aerospace",
        "pharma",
        "marketing",
    }
)

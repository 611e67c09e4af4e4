"""Taxonomy (version 1, seeded), criteria profiles, page statuses, change log, favorites, blocks,
notified matches, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

# Dimension ids as in devinsider.matching.v1.Dimension.
INDUSTRY, TECHNOLOGY, COUNTRY, COMPANY_SIZE, REVENUE_RANGE, FUNDING_STAGE, PARTNER_TYPE, BUSINESS_MODEL = (
    1,
    2,
    3,
    4,
    5,
    6,
    8,
    9,
)

INDUSTRIES = [
    ("fintech", "Financial services & fintech"),
    ("insurtech", "Insurance"),
    ("healthtech", "Healthcare & life sciences"),
    ("edtech", "Education"),
    ("retail", "Retail & e-commerce"),
    ("manufacturing", "Manufacturing"),
    ("logistics", "Transport & logistics"),
    ("energy", "Energy & utilities"),
    ("telecom", "Telecommunications"),
    ("media", "Media & entertainment"),
    ("public_sector", "Public sector"),
    ("real_estate", "Real estate & construction"),
    ("agriculture", "Agriculture & food"),
    ("automotive", "Automotive & mobility"),
    ("travel", "Travel & hospitality"),
    ("legal", "Legal"),
    ("hr", "Human resources"),
    ("gaming", "Gaming"),
    ("nonprofit", "Non-profit"),
    ("professional_services", "Professional services"),
    ("chemicals", "Chemicals & materials"),
    ("aerospace", "Aerospace & defence"),
    ("pharma", "Pharmaceuticals"),
    ("marketing", "Marketing & advertising"),
]
TECHNOLOGIES = [
    ("ai_ml", "AI & machine learning", "data"),
    ("data_analytics", "Data & analytics", "data"),
    ("data_management", "Data management", "data"),
    ("cloud_infrastructure", "Cloud infrastructure", "infrastructure"),
    ("devops", "DevOps & developer tools", "infrastructure"),
    ("networking", "Networking", "infrastructure"),
    ("storage", "Storage & backup", "infrastructure"),
    ("cybersecurity", "Cybersecurity", "security"),
    ("identity", "Identity & access", "security"),
    ("iot", "Internet of things", "edge"),
    ("robotics", "Robotics & automation", "edge"),
    ("ar_vr", "AR / VR", "edge"),
    ("blockchain", "Blockchain", "emerging"),
    ("quantum", "Quantum computing", "emerging"),
    ("erp", "ERP", "business_apps"),
    ("crm", "CRM", "business_apps"),
    ("hcm", "HCM & payroll", "business_apps"),
    ("scm", "Supply chain management", "business_apps"),
    ("collaboration", "Collaboration & productivity", "business_apps"),
    ("ecommerce_platform", "E-commerce platforms", "business_apps"),
    ("payments", "Payments", "business_apps"),
    ("low_code", "Low-code platforms", "platforms"),
    ("api_management", "API management", "platforms"),
    ("marketing_automation", "Marketing automation", "business_apps"),
]
REGIONS = [
    ("europe", "Europe"),
    ("north_america", "North America"),
    ("latin_america", "Latin America"),
    ("asia_pacific", "Asia-Pacific"),
    ("middle_east", "Middle East"),
    ("africa", "Africa"),
]
COUNTRIES = {
    "europe": [
        ("FR", "France"),
        ("DE", "Germany"),
        ("GB", "United Kingdom"),
        ("ES", "Spain"),
        ("IT", "Italy"),
        ("NL", "Netherlands"),
        ("BE", "Belgium"),
        ("CH", "Switzerland"),
        ("SE", "Sweden"),
        ("PL", "Poland"),
        ("PT", "Portugal"),
        ("IE", "Ireland"),
        ("AT", "Austria"),
        ("DK", "Denmark"),
        ("FI", "Finland"),
        ("NO", "Norway"),
        ("LU", "Luxembourg"),
        ("CZ", "Czechia"),
        ("RO", "Romania"),
        ("GR", "Greece"),
    ],
    "north_america": [("US", "United States"), ("CA", "Canada")],
    "latin_america": [("MX", "Mexico"), ("BR", "Brazil"), ("AR", "Argentina"), ("CL", "Chile"), ("CO", "Colombia")],
    "asia_pacific": [
        ("JP", "Japan"),
        ("CN", "China"),
        ("IN", "India"),
        ("SG", "Singapore"),
        ("AU", "Australia"),
        ("KR", "South Korea"),
        ("NZ", "New Zealand"),
        ("ID", "Indonesia"),
        ("VN", "Vietnam"),
    ],
    "middle_east": [
        ("AE", "United Arab Emirates"),
        ("SA", "Saudi Arabia"),
        ("IL", "Israel"),
        ("TR", "Turkey"),
        ("QA", "Qatar"),
    ],
    "africa": [
        ("ZA", "South Africa"),
        ("NG", "Nigeria"),
        ("KE", "Kenya"),
        ("MA", "Morocco"),
        ("EG", "Egypt"),
        ("TN", "Tunisia"),
    ],
}
SIZES = [
    ("1_10", "1-10 employees"),
    ("11_50", "11-50 employees"),
    ("51_200", "51-200 employees"),
    ("201_500", "201-500 employees"),
    ("501_1000", "501-1000 employees"),
    ("1001_plus", "1001+ employees"),
]
REVENUES = [
    ("pre_revenue", "Pre-revenue"),
    ("under_1m", "Under $1M"),
    ("1m_5m", "$1M-$5M"),
    ("5m_20m", "$5M-$20M"),
    ("20m_50m", "$20M-$50M"),
    ("50m_plus", "$50M+"),
]
STAGES = [
    ("pre_seed", "Pre-seed"),
    ("seed", "Seed"),
    ("series_a", "Series A"),
    ("series_b", "Series B"),
    ("series_c", "Series C"),
    ("growth", "Growth / late stage"),
]
PARTNER_TYPES = [
    ("reseller", "Reseller"),
    ("technology", "Technology partner"),
    ("referral", "Referral partner"),
    ("oem", "OEM / embedded"),
    ("system_integrator", "System integrator"),
    ("managed_services", "Managed service provider"),
    ("marketplace", "Cloud marketplace listing"),
    ("co_selling", "Co-selling"),
]
BUSINESS_MODELS = [
    ("b2b", "B2B"),
    ("b2c", "B2C"),
    ("b2b2c", "B2B2C"),
    ("saas", "SaaS"),
    ("on_premise", "On-premise licence"),
    ("hybrid", "Hybrid"),
    ("open_source", "Open source"),
    ("usage_based", "Usage-based pricing"),
]


def _rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []

    def add(dimension: int, code: str, display: str, parent: str = "", rank: int = 0) -> None:
        rows.append(
            {
                "version": 1,
                "dimension": dimension,
                "code": code,
                "display_name": display,
                "parent": parent,
                "rank": rank,
                "position": len(rows),
                "deprecated": False,
            }
        )

    for code, display in INDUSTRIES:
        add(INDUSTRY, code, display)
    for code, display, group in TECHNOLOGIES:
        add(TECHNOLOGY, code, display, group)
    for region, display in REGIONS:
        add(COUNTRY, region, display)
        for code, country in COUNTRIES[region]:
            add(COUNTRY, code, country, region)
    for dimension, scale in ((COMPANY_SIZE, SIZES), (REVENUE_RANGE, REVENUES), (FUNDING_STAGE, STAGES)):
        for rank, (code, display) in enumerate(scale):
            add(dimension, code, display, rank=rank)
    for code, display in PARTNER_TYPES:
        add(PARTNER_TYPE, code, display)
    for code, display in BUSINESS_MODELS:
        add(BUSINESS_MODEL, code, display)
    return rows


def upgrade() -> None:
    versions = op.create_table(
        "taxonomy_versions",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("published_at", TZ, nullable=False),
    )
    criteria = op.create_table(
        "criteria",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("dimension", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("parent", sa.String(64), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("deprecated", sa.Boolean, nullable=False),
    )
    op.create_table(
        "profiles",
        sa.Column("page", sa.String(80), primary_key=True),
        sa.Column("kind", sa.Integer, nullable=False),
        sa.Column("criteria", sa.Text, nullable=False),
        sa.Column("funding_need", sa.Text, nullable=False),
        sa.Column("ticket_range", sa.Text, nullable=False),
        sa.Column("taxonomy_version", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "page_statuses",
        sa.Column("page", sa.String(80), primary_key=True),
        sa.Column("kind", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("program_complete", sa.Boolean, nullable=False),
        sa.Column("investor_complete", sa.Boolean, nullable=False),
        sa.Column("vendor_company", sa.String(80), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("logo_url", sa.String(2048), nullable=False),
        sa.Column("tagline", sa.String(300), nullable=False),
        sa.Column("country_code", sa.String(2), nullable=False),
        sa.Column("fetched_at", TZ, nullable=False),
    )
    # Every change the in-memory indexes must apply, in commit order (writers serialise on a lock).
    op.create_table(
        "change_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("page", sa.String(80), nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
    )
    op.create_table(
        "favorites",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("page", sa.String(80), nullable=False),
        sa.Column("page_kind", sa.Integer, nullable=False),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("owner", "page", name="uq_favorites_owner_page"),
    )
    op.create_table(
        "blocks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("blocker", sa.String(80), nullable=False),
        sa.Column("page", sa.String(80), nullable=False, index=True),
        sa.Column("page_kind", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("blocker", "page", name="uq_blocks_blocker_page"),
    )
    op.create_table(
        "notified_matches",
        sa.Column("company", sa.String(80), primary_key=True),
        sa.Column("target", sa.String(80), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("notified_at", TZ, nullable=False),
    )
    # The outbox and inbox as devinsider_common.outbox.tables defined them when this revision was
    # applied, written out: an applied revision never changes with the library.
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("exchange", sa.String(255), nullable=False),
        sa.Column("routing_key", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("message_id", name="uq_outbox_messages_message_id"),
    )
    op.create_index("ix_outbox_messages_status_available_at", "outbox_messages", ["status", "available_at"])
    op.create_table(
        "inbox_messages",
        sa.Column("consumer", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id"),
    )
    op.bulk_insert(versions, [{"version": 1, "published_at": datetime(2026, 11, 26, tzinfo=UTC)}])
    op.bulk_insert(criteria, _rows())


def downgrade() -> None:
    op.drop_table("inbox_messages")
    op.drop_index("ix_outbox_messages_status_available_at", table_name="outbox_messages")
    op.drop_table("outbox_messages")
    for table in (
        "notified_matches",
        "blocks",
        "favorites",
        "change_log",
        "page_statuses",
        "profiles",
        "criteria",
        "taxonomy_versions",
    ):
        op.drop_table(table)

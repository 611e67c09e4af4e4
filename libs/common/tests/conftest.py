"""Fixtures shared by the library's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ENV = "from devinsider_common.db.migrations import run_env\n\nrun_env()\n"
REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("widgets", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("widgets")
"""


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    """A service's migrations folder in miniature: the shared env.py and one revision (`widgets`)."""
    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(ENV)
    (scripts / "versions" / "0001_widgets.py").write_text(REVISION)
    return scripts

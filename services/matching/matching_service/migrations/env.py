"""Alembic environment of the matching service (the shared runner does the work)."""

from devinsider_common.db.migrations import run_env

run_env()

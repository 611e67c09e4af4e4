"""Alembic environment of the contact service (the shared runner does the work)."""

from devinsider_common.db.migrations import run_env

run_env()

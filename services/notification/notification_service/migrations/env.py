"""Alembic environment of the notification service (the shared runner does the work)."""

from devinsider_common.db.migrations import run_env

run_env()

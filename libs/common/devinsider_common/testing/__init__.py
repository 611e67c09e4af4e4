"""Test support shared by every service's tests (pytest plugin: `devinsider_common.testing.fixtures`)."""

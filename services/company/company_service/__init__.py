"""Company service."""

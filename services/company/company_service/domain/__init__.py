"""Company service: domain."""

"""Company service: adapters."""

"""Company service: entrypoints."""

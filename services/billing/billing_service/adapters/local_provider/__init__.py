"""A local payment provider for dev runs and tests: its own HTTP API, a pay page, signed callbacks."""
